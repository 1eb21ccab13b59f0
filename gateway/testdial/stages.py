"""The stage list of a test dial, shared by the SIP and H.323 runners, with its progress hook."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gateway.testdial.report import Stage, StageStatus

__all__ = ["SIP_STAGES", "H323_STAGES", "Progress", "StageBoard"]

Progress = Callable[["StageBoard"], None]

SIP_STAGES: tuple[tuple[str, str], ...] = (
    ("dns", "DNS"),
    ("connect", "transport connect"),
    ("crc_port", "CRC port free"),
    ("register", "REGISTER"),
    ("invite_100", "INVITE -> 100"),
    ("invite_180", "INVITE -> 180/183"),
    ("invite_200", "INVITE -> 200"),
    ("dtmf", "DTMF accepted"),
    ("media", "media both ways"),
    ("video", "video both ways"),
    ("bye", "BYE -> 200"),
)

H323_STAGES: tuple[tuple[str, str], ...] = (
    ("dns", "DNS"),
    ("connect", "TCP connect (H.225)"),
    ("crc_port", "CRC port free"),
    ("invite_100", "Setup -> Call Proceeding"),
    ("invite_180", "Setup -> Alerting"),
    ("invite_200", "Setup -> Connect"),
    ("dtmf", "DTMF accepted"),
    ("media", "media both ways"),
    ("video", "H.264 video both ways"),
    ("bye", "Release Complete"),
)


class StageBoard:
    """The stages in order; every change calls ``progress(board)`` (a live view redraws)."""

    def __init__(self, names: Iterable[tuple[str, str]], progress: Progress | None = None) -> None:
        self.stages = [Stage(name, label) for name, label in names]
        self._by_name = {stage.name: stage for stage in self.stages}
        self._progress = progress
        self.activity = ""

    def __getitem__(self, name: str) -> Stage:
        return self._by_name[name]

    def set(
        self, name: str, status: StageStatus, ms: float | None = None, detail: str | None = None
    ) -> None:
        stage = self._by_name[name]
        stage.status = status
        if ms is not None:
            stage.ms = ms
        if detail is not None:
            stage.detail = detail
        self.changed()

    def say(self, activity: str) -> None:
        """What is happening now (the live view's caption)."""
        self.activity = activity
        self.changed()

    def skip_pending(self, detail: str) -> None:
        """Mark every stage not reached as skipped (after a failure ended the test early)."""
        for stage in self.stages:
            if stage.status == "pending":
                stage.status = "skipped"
                stage.detail = stage.detail or detail
        self.changed()

    def changed(self) -> None:
        if self._progress is not None:
            self._progress(self)
