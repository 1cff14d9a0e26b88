"""The demo: a consumer credit-risk model and ninety days of its life, seeded through the services.

`catalogue` holds what is declared (model card, feature schemas, versions, the demo cast), `story`
generates what happens (numpy only), `seed` feeds both through the same services the API uses.
"""
