"""`wardbot worker`: the background work with no web server (app.jobs.background).

Runs beside `wardbot serve` started with WARDBOT_RUN_WORKER=false, on the same database: the
web process verifies and records webhook events and answers Zalo at once; this process answers
residents, sends announcements and held replies, and refreshes the Zalo token. Several may run.

`register(cli)` adds it to the main `wardbot` application.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import typer

from app.config import Settings
from app.errors import CatalogueError
from app.jobs.background import Background

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def register(cli: typer.Typer) -> None:
    cli.command("worker")(worker)


def worker() -> None:
    """Run the background work until Ctrl-C or SIGTERM: answer residents' messages, send
    announcements and held replies, refresh the Zalo token (serve with WARDBOT_RUN_WORKER=false).
    """
    from app.logs import configure_logging

    settings = Settings()
    configure_logging()
    if settings.simulator:
        typer.echo(
            "Chế độ mô phỏng (chưa cấu hình Zalo): tin trả lời được ghi lại, không gửi thật.",
            err=True,
        )
    try:
        asyncio.run(run_worker(settings))
    except CatalogueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo("Đã dừng: việc đang làm dở đã xong, tin chưa xử lý chờ lần chạy sau.", err=True)


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run the background work until `stop` is set; without one, until SIGINT or SIGTERM.

    Then stop gracefully: answers and deliveries in flight finish and are recorded; events
    not started stay `received` in the database for the next worker to start.
    """
    import httpx

    from app.main import build_services

    loop = asyncio.get_running_loop()
    own_signals = stop is None
    if stop is None:
        stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=settings.zalo_timeout_seconds) as http:
        services = build_services(settings, http)
        background = Background(services, settings)
        try:
            if own_signals:
                for signum in STOP_SIGNALS:
                    loop.add_signal_handler(signum, stop.set)
            background.start()
            log.info("wardbot worker ready", extra={"simulator": settings.simulator})
            await stop.wait()
            log.info("wardbot worker stopping")
        finally:
            if own_signals:
                # A second Ctrl-C during the graceful stop interrupts it.
                for signum in STOP_SIGNALS:
                    with contextlib.suppress(ValueError, RuntimeError):
                        loop.remove_signal_handler(signum)
            await background.stop()
            services.db.close()
        log.info("wardbot worker stopped")
