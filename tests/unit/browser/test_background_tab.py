"""How a preload opens its background tab: from a script, or the driver's way when the browser blocks that.

The script way is exercised against real Chromium by tests/integration/test_browser.py; Chromium under a driver
never blocks script-opened tabs, so the fallback is shown here with a stand-in driver.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from popool_gui.browser.session import BrowserSession

URL = "http://127.0.0.1:9/order_headers/1"


@dataclass
class Switcher:
    driver: StandInDriver

    def new_window(self, _kind: str) -> None:
        self.driver.handles.append(f"tab{len(self.driver.handles)}")
        self.driver.current_window_handle = self.driver.handles[-1]

    def window(self, handle: str) -> None:
        self.driver.current_window_handle = handle


@dataclass
class StandInDriver:
    popups_allowed: bool
    lists_after: int = 0  # how many looks at window_handles pass before a script-opened tab is listed
    handles: list[str] = field(default_factory=lambda: ["home"])
    current_window_handle: str = "home"
    scripts: list[tuple[str, str]] = field(default_factory=list)  # (tab it ran in, script)
    opening: str = ""

    @property
    def window_handles(self) -> list[str]:
        if self.opening and self.lists_after <= 0:
            self.handles.append(self.opening)
            self.opening = ""
        self.lists_after -= 1
        return list(self.handles)

    @property
    def switch_to(self) -> Switcher:
        return Switcher(self)

    def execute_script(self, script: str, *_args: object) -> bool:
        self.scripts.append((self.current_window_handle, script))
        if "window.open" in script and self.popups_allowed:
            self.opening = f"tab{len(self.handles)}"
            return True
        return False


def test_script_opened_tab_keeps_the_current_tab_current() -> None:
    driver = StandInDriver(popups_allowed=True, lists_after=1)
    handle = BrowserSession._open_background_tab(driver, URL)  # type: ignore[arg-type]
    assert handle == "tab1" and driver.current_window_handle == "home"
    # Opened blank from the current tab, then told to navigate from inside (after its page instrument went in).
    assert [tab for tab, _ in driver.scripts] == ["home", "tab1"]
    assert "about:blank" in driver.scripts[0][1] and "location.href" in driver.scripts[1][1]


def test_blocked_script_tab_falls_back_to_the_drivers_way() -> None:
    driver = StandInDriver(popups_allowed=False)
    handle = BrowserSession._open_background_tab(driver, URL)  # type: ignore[arg-type]
    assert handle == "tab1" and driver.current_window_handle == "home"
    assert driver.scripts[-1][0] == "tab1" and "location.href" in driver.scripts[-1][1]


def test_a_tab_listed_late_is_waited_for_not_opened_twice() -> None:
    driver = StandInDriver(popups_allowed=True, lists_after=5)
    handle = BrowserSession._open_background_tab(driver, URL)  # type: ignore[arg-type]
    assert handle == "tab1" and driver.handles == ["home", "tab1"] and driver.current_window_handle == "home"
    assert [tab for tab, _ in driver.scripts] == ["home", "tab1"]
