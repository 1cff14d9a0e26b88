"""The demo: a consumer credit-risk model and ninety days of its life, seeded through the services.

`catalogue` holds what is declared (model card, feature schemas, versions, the demo cast, the team's
policies and words), `story` generates what happens (numpy only), `seed` feeds the telemetry through the
same services the API uses, `analyses` runs the daily analyses of the story's days, `governance` plays
the people's response to what the policies raise, and `tell` puts them in order.
"""
