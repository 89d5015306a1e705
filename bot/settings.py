"""One typed settings object, read from THIDUA_* variables and an optional .env file."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.channels.telegram import CHANNEL as TELEGRAM
from storage.outbox import Target
from storage.prizes import parse_salaries


class Settings(BaseSettings):
    """Deployment settings; nothing reads the environment anywhere else."""

    model_config = SettingsConfigDict(
        env_prefix="THIDUA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("data")
    database_url: str | None = None
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str = "https://api.telegram.org/file/bot"
    telegram_bot_username: str | None = None
    zalo_token: SecretStr | None = None  # "<bot id>:<secret>", from Zalo Bot Creator
    zalo_api_url: str = "https://bot-api.zaloplatforms.com/bot"
    zalo_webhook: bool = False  # on: Zalo posts to THIDUA_PUBLIC_URL/<zalo_webhook_path>
    zalo_webhook_path: str = "zalo"
    zalo_rate: float = Field(default=5.0, gt=0, le=100)  # outbox messages a second to Zalo
    files_by_link: tuple[str, ...] = ("zalo",)  # channels that cannot carry files
    zalo_bot_link: str | None = None  # the bot's share link (or QR page), printed with invites
    web_port: int | None = Field(default=None, ge=0, le=65535)  # the service's HTTP server
    web_listen: str = "127.0.0.1"  # behind a reverse proxy; 0.0.0.0 only if nothing is in front
    public_url: str | None = None  # e.g. https://thidua.example.vn: webhooks instead of polling
    webhook_path: str = "telegram"
    webhook_secret: SecretStr | None = None  # default: derived from the token (same on workers)
    poll_timeout: int = Field(default=30, ge=0, le=60)
    board_chat: str | None = None  # "channel:chat id" of the board's chat, e.g. telegram:-100123
    board_chat_id: str | None = None  # shorthand for a Telegram chat id
    board_name: str = "Ban Quản lý các Khu công nghiệp tỉnh Bắc Ninh"
    board_contact: str = "Văn phòng Ban Quản lý các KCN tỉnh Bắc Ninh"
    base_salaries: str | None = None  # decreed since the built-in table: "2026-07-01=2900000; …"
    dossier_template: Path | None = None  # the board's edited tờ trình (.docx with its fields)
    dossier_place: str = "Bắc Ninh"  # where the tờ trình is dated: "Bắc Ninh, ngày …"
    board_phone: str | None = None  # given with the office wherever people are told to ask
    board_email: str | None = None  # where a document too large for chat can be sent
    timezone: str = "Asia/Ho_Chi_Minh"
    locale: Literal["vi", "en"] = "vi"
    import_max_mb: int = Field(default=20, ge=1, le=200)
    backup_dir: Path | None = None  # set: an archive every night (THIDUA_BACKUP_AT, local time)
    backup_at: str = Field(default="02:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    backup_keep_days: int = Field(default=14, ge=1, le=3650)
    files_keep_days: int | None = Field(default=None, ge=30, le=36500)  # after a campaign closes
    log_format: Literal["text", "json"] = "text"  # json: one object per line, for shippers
    files_per_minute: int = Field(default=6, ge=1, le=600)  # files one chat may send a minute
    invite_days: int = Field(default=30, ge=1, le=365)
    core_threads: int = Field(default=8, ge=1, le=64)  # chats whose steps run at the same time
    concurrent_chats: int = Field(default=64, ge=1, le=10_000)  # chats being answered at once
    reminder_rate: float = Field(default=25.0, gt=0, le=1000)
    reminder_per_chat_seconds: float = Field(default=1.0, ge=0, le=60)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("use a sqlite:/// or postgresql:// URL")
        return value or None

    @field_validator("base_salaries")
    @classmethod
    def _dated_amounts(cls, value: str | None) -> str | None:
        if value:
            parse_salaries(value)
        return value or None

    @property
    def salary_table(self) -> tuple[tuple[date, int], ...]:
        """The base salaries decreed since the built-in table (THIDUA_BASE_SALARIES)."""
        return parse_salaries(self.base_salaries) if self.base_salaries else ()

    @field_validator("board_chat")
    @classmethod
    def _channel_and_chat(cls, value: str | None) -> str | None:
        if value:
            Target.parse(value)  # "channel:chat id"
        return value or None

    @field_validator("public_url")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("use the public origin, e.g. https://thidua.example.vn")
        return value.rstrip("/") if value else None

    @model_validator(mode="after")
    def _webhook_needs_the_server(self) -> Settings:
        if self.public_url and self.web_port is None:
            raise ValueError("THIDUA_PUBLIC_URL needs THIDUA_WEB_PORT (the server it points to)")
        if self.zalo_webhook and (self.public_url is None or self.web_port is None):
            raise ValueError("THIDUA_ZALO_WEBHOOK needs THIDUA_PUBLIC_URL and THIDUA_WEB_PORT")
        return self

    @property
    def telegram_webhook_url(self) -> str | None:
        """Where Telegram posts updates: the public origin and the webhook's path."""
        if not self.public_url:
            return None
        return f"{self.public_url}/{self.webhook_path.strip('/')}"

    @property
    def telegram_webhook_secret(self) -> str | None:
        """The secret Telegram sends with each webhook call: THIDUA_WEBHOOK_SECRET, else one
        derived from the token, so that every worker of a deployment agrees without setup."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        if self.telegram_token is None:
            return None
        token = self.telegram_token.get_secret_value().encode()
        return hmac.new(token, b"thidua webhook secret", hashlib.sha256).hexdigest()

    def secrets(self) -> list[str]:
        """What must never be printed or logged: the token and the webhook's secret (the
        database URL is only ever shown with its password hidden)."""
        token = self.telegram_token.get_secret_value() if self.telegram_token else None
        zalo = self.zalo_token.get_secret_value() if self.zalo_token else None
        found = (token, self.telegram_webhook_secret, zalo, self.zalo_webhook_secret)
        return [s for s in found if s]

    @property
    def zalo_webhook_url(self) -> str | None:
        """Where Zalo posts events when its webhook is on."""
        if not self.public_url or not self.zalo_webhook:
            return None
        return f"{self.public_url}/{self.zalo_webhook_path.strip('/')}"

    @property
    def zalo_webhook_secret(self) -> str | None:
        """The secret Zalo sends with each webhook call (X-Bot-Api-Secret-Token): derived from
        the token, as Telegram's, so every worker agrees."""
        if self.zalo_token is None:
            return None
        token = self.zalo_token.get_secret_value().encode()
        return hmac.new(token, b"thidua zalo webhook secret", hashlib.sha256).hexdigest()

    @property
    def channels_configured(self) -> bool:
        """Whether any chat channel has its token (else the terminal demo runs)."""
        return self.telegram_token is not None or self.zalo_token is not None

    @property
    def board(self) -> Target | None:
        """The board's chat: THIDUA_BOARD_CHAT, else THIDUA_BOARD_CHAT_ID on Telegram."""
        if self.board_chat:
            return Target.parse(self.board_chat)
        return Target(TELEGRAM, self.board_chat_id) if self.board_chat_id else None

    @property
    def tz(self) -> ZoneInfo:
        """The board's time zone for display and local deadlines."""
        return ZoneInfo(self.timezone)

    @property
    def db_url(self) -> str:
        """The configured database, or a SQLite file under the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'thidua.sqlite3'}"


def describe_error(error: ValidationError) -> str:
    """One line naming each bad THIDUA_* variable and why."""
    parts = []
    for item in error.errors():
        name = "THIDUA_" + "_".join(str(p) for p in item["loc"]).upper()
        parts.append(f"{name}: {item['msg']}")
    return "; ".join(parts)
