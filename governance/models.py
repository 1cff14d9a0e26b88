"""Governance records (policies, drift events, serving gate, incidents, postmortems, audit).

Built by the governance issue; the app is registered now so its migrations have a home.
"""
