"""One typed settings object, read from THIDUA_* variables and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.channels.telegram import CHANNEL as TELEGRAM
from storage.outbox import Target


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
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_path: str = "telegram"
    webhook_secret: SecretStr | None = None
    poll_timeout: int = Field(default=30, ge=0, le=60)
    board_chat: str | None = None  # "channel:chat id" of the board's chat, e.g. telegram:-100123
    board_chat_id: str | None = None  # shorthand for a Telegram chat id
    board_name: str = "Ban Quản lý các Khu công nghiệp tỉnh Bắc Ninh"
    board_contact: str = "Văn phòng Ban Quản lý các KCN tỉnh Bắc Ninh"
    timezone: str = "Asia/Ho_Chi_Minh"
    locale: Literal["vi", "en"] = "vi"
    import_max_mb: int = Field(default=20, ge=1, le=200)
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

    @field_validator("board_chat")
    @classmethod
    def _channel_and_chat(cls, value: str | None) -> str | None:
        if value:
            Target.parse(value)  # "channel:chat id"
        return value or None

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
