"""Headless Chromium driven over the DevTools protocol, standard library only.

--remote-debugging-pipe: the browser reads NUL-separated JSON commands on file
descriptor 3 and writes replies and events on 4. Used by the browser test of the
report and by the benchmark (python -m backprop_oracle.reports.bench).
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import time

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


PLACE_PIPES = """
import fcntl, os, sys
high = [fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3]]
os.dup2(high[0], 3)
os.dup2(high[1], 4)
os.execv(sys.argv[3], sys.argv[3:])
"""


class Browser:
    """The least of the DevTools protocol: commands, and the events seen while waiting."""

    def __init__(self, executable, profile):
        to_browser_r, self._write_fd = os.pipe()
        self._read_fd, from_browser_w = os.pipe()
        args = [executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                "--window-size=1400,1000", "about:blank"]
        # The browser reads commands on fd 3 and writes replies and events on fd 4. A fresh
        # interpreter puts the pipes there and becomes the browser (a preexec_fn would run
        # Python in a fork of this process, which may be threaded).
        self.process = subprocess.Popen(
            [sys.executable, "-c", PLACE_PIPES, str(to_browser_r), str(from_browser_w), *args],
            pass_fds=(to_browser_r, from_browser_w),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
