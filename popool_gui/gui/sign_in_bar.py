"""The sign-in banner: a worker reached the portal's sign-in page, and what the user can do about it."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Signal

from popool_gui.gui.banners import Level, MessageBar


class SignInAction(Enum):
    RESUME = "resume"  # a visible browser: the user signs in there, then the worker goes on
    SETTINGS = "settings"  # headless browsers: nobody can sign in, Headless must be turned off


class SignInBar(MessageBar):
    resume_requested = Signal(int)  # worker
    settings_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.worker: int | None = None
        self.choice: SignInAction | None = None
        self.action_clicked.connect(self._act)

    def show_for(self, worker: int, po: str, headless: bool) -> None:
        self.worker = worker
        if headless:
            self.choice = SignInAction.SETTINGS
            self.show_message(
                Level.WARNING,
                f"Sign-in needed: worker {worker} reached the portal's sign-in page at {po}. The browsers run "
                "headless, so nobody can sign in there. Turn off Headless in Settings, start once and sign in "
                "in the browser window, then run again.",
                action="Settings...",
                action_tip="Open the settings to turn off Headless",
            )
        else:
            self.choice = SignInAction.RESUME
            self.show_message(
                Level.WARNING,
                f"Sign-in needed: worker {worker} reached the portal's sign-in page at {po}. Sign in in worker "
                f"{worker}'s browser window, then press Resume.",
                action=f"Resume worker {worker}",
                action_tip="Tell the worker you have signed in; it checks and goes on",
            )

    def worker_resumed(self, worker: int) -> None:
        if self.worker == worker:
            self.clear()

    def clear(self) -> None:
        self.hide()
        self.worker = None
        self.choice = None

    def _act(self) -> None:
        if self.worker is None:
            return
        if self.choice is SignInAction.RESUME:
            self.resume_requested.emit(self.worker)
        elif self.choice is SignInAction.SETTINGS:
            self.settings_requested.emit()
