"""The web front-end for union cadres (`python -m services.web`, port 8080): a backend-for-frontend
that serves server-rendered Vietnamese pages and talks to the four services only through their
public NATS API, with the logged-in person's own token (README "Web front-end").

It has no database: sessions (with the person's tokens) live in this process. It subscribes to
notify's `notifications.created` events to tell open pages of new notices (server-sent events).

    app.py       the HTTP application: routes, security headers, lifespan, `main()`
    pages/       one module per area of the site (auth, home, notices, reports, plans, …)
    gateway.py   calls to the services as the session's person; errors as sentences
    sessions.py  server-side sessions, CSRF tokens, the login rate limit
    live.py      the server-sent events hub fed by notify's events
    forms.py     a report form drawn from its definition; posted values and field errors
    present.py   dates dd/mm/yyyy, Vietnamese labels (pure)
"""
