"""The site's pages, one module per area; ROUTES is the whole site."""

from __future__ import annotations

from services.web.pages import auth, awards, home, individual, notices, org, plans, reports

ROUTES = [*auth.ROUTES, *home.ROUTES, *notices.ROUTES, *reports.ROUTES, *plans.ROUTES, *individual.ROUTES,
          *awards.ROUTES, *org.ROUTES]
