"""The report in a real browser: headless Chromium loads the matrix and an op page, from disk,
with no console error and no failed load, and takes a screenshot of each.

Chromium is driven through the DevTools protocol over a pipe (--remote-debugging-pipe:
NUL-separated JSON on file descriptors 3 and 4), so the test needs nothing but the
standard library and the browser. The load time is printed (run with -s to see it),
not asserted: timings belong to benchmarks.
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import time

import pytest

from reports.render import render

from test_report import meta, record

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """The least of the DevTools protocol: commands, and the events seen while waiting."""

    def __init__(self, executable, profile):
        to_browser_r, self._write_fd = os.pipe()
        self._read_fd, from_browser_w = os.pipe()
        args = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                "--window-size=1400,1000", "about:blank"]
        def child_fds():  # the browser reads commands on fd 3, writes replies and events on fd 4
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)
        self.process = subprocess.Popen(args, preexec_fn=child_fds,
                                        close_fds=False, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer, self._next_id, self.events = b"", 0, []

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._read_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=None, timeout=30):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return self.events.pop()

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.close(self._write_fd)
        os.close(self._read_fd)


class Page:
    def __init__(self, browser):
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def send(self, method, params=None):
        return self.browser.send(method, params, self.session)

    def load(self, path):
        """Open a file; return (milliseconds to the load event, errors seen)."""
        self.browser.events.clear()
        self.send("Page.navigate", {"url": "file://" + str(path)})
        self.browser.wait_for("Page.loadEventFired")
        time.sleep(0.2)  # late console messages
        self.send("Runtime.evaluate", {"expression": "1"})  # flushes pending events
        milliseconds = self.evaluate("performance.getEntriesByType('navigation')[0].duration")
        return milliseconds, self.errors()

    def errors(self):
        found = []
        for event in self.browser.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(str(params.get("args")))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"{params['entry'].get('text')} {params['entry'].get('url', '')}")
            elif method == "Network.loadingFailed":
                found.append(f"failed to load: {params.get('errorText')}")
        return found

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(data["data"]))
        return path


@pytest.fixture
def page(tmp_path):
    executable = find_chromium()
    if executable is None:
        pytest.skip(f"no Chromium found (looked for {', '.join(BROWSERS)} on PATH); "
                    "Debian: apt-get install chromium")
    browser = Browser(executable, tmp_path / "profile")
    try:
        yield Page(browser)
    finally:
        browser.close()


def sample_report(out_dir):
    records = [record(), record(dtype="float32", margin=0.4), record(oracle="jax"),
               record(oracle="torch~jax", margin=0.02),
               record(oracle="fd", margin=3.0, status="fail", diagnosis="dW looks transposed"),
               record(op="relu", case="mixed", quantity="grad:x"),
               record(op="mse", case="mean", oracle="golden", status="skipped", margin=None)]
    return render({"meta": meta(), "records": records}, str(out_dir))


def test_the_matrix_and_an_op_page_render_in_chromium_without_console_errors(page, tmp_path):
    report = tmp_path / "report"
    index = sample_report(report)
    milliseconds, errors = page.load(index)
    assert errors == []
    assert page.evaluate("document.querySelectorAll('table.matrix td.cell').length") >= 5
    assert page.evaluate("document.querySelector('table.matrix a[href=\"ops/affine.html\"]') !== null")
    page.screenshot(tmp_path / "index.png")
    print(f"\nindex.html loaded in {milliseconds:.0f} ms")

    op_ms, errors = page.load(report / "ops" / "affine.html")
    assert errors == []
    assert page.evaluate("document.querySelectorAll('math').length") >= 2
    assert page.evaluate("(() => { const i = document.querySelector('img.plot');"
                         " return i.complete && i.naturalWidth > 0; })()")
    assert page.evaluate("document.querySelector('pre.source').textContent").count("def backward") == 1
    assert (page.screenshot(tmp_path / "affine.png")).stat().st_size > 10_000
    print(f"ops/affine.html loaded in {op_ms:.0f} ms; screenshots in {tmp_path}")


def test_a_missing_file_is_seen_as_an_error(page, tmp_path):
    """The check above can fail: a page whose plot is gone reports a failed load."""
    report = tmp_path / "report"
    sample_report(report)
    (report / "ops" / "affine.svg").unlink()
    _, errors = page.load(report / "ops" / "affine.html")
    assert errors, "a missing image went unnoticed"
