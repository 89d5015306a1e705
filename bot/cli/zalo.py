"""``thidua zalo webhook set|delete|info``: the Zalo bot's webhook, from the command line."""

from __future__ import annotations

import asyncio

import click

from bot.channels.zalo.api import ZaloApi, ZaloError
from bot.compose import App
from bot.i18n import _


@click.group("zalo")
def zalo() -> None:
    """The Zalo bot (THIDUA_ZALO_TOKEN)."""


@zalo.group("webhook")
def webhook() -> None:
    """Where Zalo delivers messages: the webhook, or none (long polling)."""


def _call(app: App, method: str, **params: object) -> object:
    """One call with the configured token; a refusal is one line, exit 2."""
    token = app.settings.zalo_token
    if token is None:
        raise click.UsageError(_("THIDUA_ZALO_TOKEN is not set."))

    async def call() -> object:
        api = ZaloApi(token.get_secret_value(), app.settings.zalo_api_url)
        await api.start()
        try:
            return await api.call(method, **params)
        finally:
            await api.close()

    try:
        return asyncio.run(call())
    except ZaloError as error:
        raise click.ClickException(
            _("Zalo refused %(method)s: %(error)s") % {"method": method, "error": error}
        ) from None


@webhook.command("set")
@click.pass_obj
def webhook_set(app: App) -> None:
    """Point Zalo at THIDUA_PUBLIC_URL/<THIDUA_ZALO_WEBHOOK_PATH>, with the derived secret."""
    url = app.settings.zalo_webhook_url
    if url is None:
        raise click.UsageError(
            _("Set THIDUA_PUBLIC_URL, THIDUA_WEB_PORT and THIDUA_ZALO_WEBHOOK=on.")
        )
    _call(app, "setWebhook", url=url, secret_token=app.settings.zalo_webhook_secret)
    click.echo(_("Zalo now delivers to %(url)s.") % {"url": url})


@webhook.command("delete")
@click.pass_obj
def webhook_delete(app: App) -> None:
    """Remove the webhook, so that `thidua run` may poll."""
    _call(app, "deleteWebhook")
    click.echo(_("The Zalo webhook is removed; `thidua run` polls."))


@webhook.command("info")
@click.pass_obj
def webhook_info(app: App) -> None:
    """Show where Zalo delivers now."""
    info = _call(app, "getWebhookInfo")
    url = info.get("url") if isinstance(info, dict) else None
    click.echo(
        _("Zalo delivers to %(url)s.") % {"url": url} if url else _("No webhook: long polling.")
    )


COMMANDS = [zalo]
