"""Thông báo: the inbox, marking read, preferences, the person's delivery log (e-mails and
webhooks sent, waiting, failed), and the live stream (/live) of new notices."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from services.web.gateway import Problem, SessionExpired
from services.web.live import CLOSE
from services.web.present import CHANNEL, DELIVERY_STATUS, EMAIL_MODE, NOTIFICATION_KIND, dmy_hm
from services.web.site import redirect, web_of


async def inbox(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    unread_only = request.query_params.get("unread") == "1"
    cursor = request.query_params.get("cursor") or None
    page = await web.call(s, "notify", "list_inbox", {"unread_only": unread_only,
                                                      "page": {"limit": 30, "cursor": cursor}})
    return await web.render(request, "notices.html", {"page": page, "unread_only": unread_only}, session=s)


async def mark_read(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    ids = [str(v) for v in form.getlist("id")][:500]
    body: dict[str, Any] = {"all": True} if form.get("all") else {"notification_ids": ids}
    reply = await web.call(s, "notify", "mark_read", body)
    s.flash(f"Đã đánh dấu đã đọc {reply['marked']} thông báo.")
    back = str(form.get("back") or "/notices")
    return redirect(back if back.startswith("/") and not back.startswith("//") else "/notices")


async def open_notice(request: Request) -> Response:
    """Follow a notice's link, marking it read on the way."""
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    nid = request.path_params["nid"]
    await web.call(s, "notify", "mark_read", {"notification_ids": [nid]})
    link = str(form.get("link") or "/notices")
    return redirect(link if link.startswith("/") and not link.startswith("//") else "/notices")


async def preferences(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    prefs = await web.call(s, "notify", "get_preferences", {})
    return await web.render(request, "preferences.html", {"prefs": prefs, "modes": EMAIL_MODE,
                                                         "kinds": NOTIFICATION_KIND, "fields": {}}, session=s)


async def save_preferences(request: Request) -> Response:
    web = web_of(request)
    s = web.require(request)
    form = await web.form(request, s)
    body: dict[str, Any] = {"email": str(form.get("email") or "auto"),
                            "muted_kinds": [k for k in form.getlist("muted") if k in NOTIFICATION_KIND]}
    address = str(form.get("email_address") or "").strip()
    body["email_address"] = address or None
    hook = str(form.get("webhook_url") or "").strip()
    body["webhook_url"] = hook or None
    if form.get("rotate_webhook_secret"):
        body["rotate_webhook_secret"] = True
    try:
        saved = await web.call(s, "notify", "set_preferences", body)
    except Problem as p:
        prefs = await web.call(s, "notify", "get_preferences", {})
        prefs.update({"email": body["email"], "muted_kinds": body["muted_kinds"], "email_address": address,
                      "webhook_url": hook})
        return await web.render(request, "preferences.html", {
            "prefs": prefs, "modes": EMAIL_MODE, "kinds": NOTIFICATION_KIND, "error": p.message,
            "fields": p.fields}, session=s, status=p.status)
    if saved.get("webhook_secret"):  # shown once, on this answer only (not kept in the session)
        return await web.render(request, "preferences.html", {
            "prefs": saved, "modes": EMAIL_MODE, "kinds": NOTIFICATION_KIND, "fields": {},
            "secret": saved["webhook_secret"]}, session=s)
    s.flash("Đã lưu cách nhận thông báo.")
    return redirect("/notices/preferences")


async def deliveries(request: Request) -> Response:
    """The person's own deliveries, newest first, by status and channel (notify `delivery_log`)."""
    web = web_of(request)
    s = web.require(request)
    status = request.query_params.get("status") or None
    channel = request.query_params.get("channel") or None
    status = status if status in DELIVERY_STATUS else None
    channel = channel if channel in ("email", "webhook") else None
    body: dict[str, Any] = {"page": {"limit": 50, "cursor": request.query_params.get("cursor") or None}}
    if status:
        body["status"] = status
    if channel:
        body["channel"] = channel
    page = await web.call(s, "notify", "delivery_log", body)
    return await web.render(request, "deliveries.html", {
        "page": page, "status": status, "channel": channel, "statuses": DELIVERY_STATUS,
        "channels": {k: v for k, v in CHANNEL.items() if k != "inbox"}}, session=s)


async def live(request: Request) -> Response:
    """Server-sent events: `notice` with the unread count and the newest notices, whenever notify
    writes something into this person's inbox."""
    web = web_of(request)
    s = web.require(request)
    q = web.hub.listen(s.person_id)
    keepalive = web.settings.sse_keepalive_s

    async def stream() -> Any:
        try:
            yield "retry: 5000\n\n"
            while not web.hub.closed:
                try:
                    item = await asyncio.wait_for(q.get(), timeout=keepalive)
                except TimeoutError:
                    if not web.sessions.alive(s.sid):
                        yield "event: expired\ndata: {}\n\n"
                        return
                    yield ": keepalive\n\n"
                    continue
                if item is CLOSE:
                    return
                try:
                    page = await web.call(s, "notify", "list_inbox", {"unread_only": True, "page": {"limit": 5}})
                except SessionExpired:
                    yield "event: expired\ndata: {}\n\n"
                    return
                except Problem:
                    continue
                wanted = set(item or [])
                fresh = [n for n in page["items"] if not wanted or n["notification_id"] in wanted] or page["items"][:1]
                data = {"unread": page["unread"], "items": [
                    {"id": n["notification_id"], "title": n["title"], "link": n.get("link") or "/notices",
                     "kind": NOTIFICATION_KIND.get(n["kind"], n["kind"]), "at": dmy_hm(n["created_at"])}
                    for n in fresh]}
                yield f"event: notice\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        finally:
            web.hub.forget(s.person_id, q)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


ROUTES = [
    Route("/notices", inbox, methods=["GET"]),
    Route("/notices/read", mark_read, methods=["POST"]),
    Route("/notices/{nid}/open", open_notice, methods=["POST"]),
    Route("/notices/preferences", preferences, methods=["GET"]),
    Route("/notices/preferences", save_preferences, methods=["POST"]),
    Route("/notices/deliveries", deliveries, methods=["GET"]),
    Route("/live", live, methods=["GET"]),
]
