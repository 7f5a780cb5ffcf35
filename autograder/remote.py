"""The grader's side of a student's kernel.

A request is a file the grader writes into the exchange folder; one line of
code sent to the kernel asks autograder.harness to answer it with a file
beside it. Whatever comes back is read with autograder.wire (plain data only)
and counts as the student's answer; anything that goes wrong on the way (the
student's code broke the harness, the call ran out of time, the kernel died)
becomes a failed call, never a passed one.
"""
import inspect
import itertools
import os
import time
from queue import Empty

from jupyter_core.utils import ensure_async, run_sync

from . import wire
from .harness import Outcome


class KernelGone(RuntimeError):
    pass


def _wait(result):
    """The result of a kernel manager's method, sync or async."""
    if not inspect.isawaitable(result):
        return result

    async def wait():
        return await result
    return run_sync(wait)()


async def wait_until_ready(kc, timeout):
    """Until the kernel answers on kc's shell channel and kc's iopub carries the answer's idle status
    (kc misses none of the kernel's output after). jupyter_client's wait_for_ready does the same and then
    waits for 0.2 s of silence on iopub: 0.2 s per client per notebook. kc: a blocking or an async client."""
    deadline = time.monotonic() + timeout
    while True:
        msg_id = kc.kernel_info()
        try:
            reply = await ensure_async(kc.shell_channel.get_msg(timeout=1))
        except Empty:
            reply = None
        if reply is not None and reply["parent_header"].get("msg_id") == msg_id:
            idle_by = time.monotonic() + 0.5
            while time.monotonic() < idle_by:
                try:
                    msg = await ensure_async(kc.iopub_channel.get_msg(timeout=max(0.01, idle_by - time.monotonic())))
                except Empty:
                    break
                if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                        and msg["content"].get("execution_state") == "idle"):
                    return
        if not await kc._async_is_alive():  # asks the kernel manager that made kc
            raise RuntimeError("the kernel died before it was ready")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the kernel did not answer within {timeout} s")


class KernelSession:
    def __init__(self, km, exchange_dir, call_timeout=30.0):
        self.km = km
        self.exchange_dir = exchange_dir
        self.call_timeout = call_timeout
        self.kc = km.blocking_client()
        self.kc.start_channels()
        _wait(wait_until_ready(self.kc, 60))
        self._ids = itertools.count()
        self.dead_reason = None
        self.deadline = None  # the notebook's time limit (time.monotonic()), if any
        self.hung = set()  # functions a call of which ran out of time: later calls fail at once

    def close(self):
        self.kc.stop_channels()

    def mark_dead(self, reason):
        self.dead_reason = self.dead_reason or reason

    def _timeout(self):
        if self.deadline is None:
            return self.call_timeout
        return max(0.5, min(self.call_timeout, self.deadline - time.monotonic()))

    def run_code(self, code, timeout=None):
        """Run one line in the kernel (silently); returns the reply content."""
        if self.dead_reason:
            raise KernelGone(self.dead_reason)
        try:
            reply = self.kc.execute_interactive(code, silent=True, store_history=False, allow_stdin=False,
                                                timeout=timeout or self._timeout(), output_hook=lambda msg: None)
        except TimeoutError:
            self._recover_after_timeout()
            raise
        return reply["content"]

    def _recover_after_timeout(self):
        """Interrupt a call that ran too long; a kernel that does not come back is stopped."""
        try:
            _wait(self.km.interrupt_kernel())
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                msg = self.kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
                if msg["msg_type"] == "execute_reply":
                    return
        except Exception:
            pass
        self.mark_dead("the kernel did not stop after a call ran out of time, so it was shut down")
        try:
            _wait(self.km.shutdown_kernel(now=True))
        except Exception:
            pass

    def request(self, payload):
        """Send one request to the harness; returns its decoded answer."""
        path = os.path.join(self.exchange_dir, f"request-{next(self._ids)}.npz")
        answer_path = path + ".out"
        for stale in (path, answer_path):
            if os.path.exists(stale):
                os.remove(stale)
        wire.write(path, payload)
        content = self.run_code(f"__import__('autograder.harness', fromlist=['serve']).serve({path!r})")
        if content.get("status") != "ok":
            raise wire.WireError(f"the grader's call did not run in your kernel ({content.get('ename')}: "
                                 f"{str(content.get('evalue'))[:200]}); does the notebook replace Python's import "
                                 "machinery, IPython's hooks or the autograder's modules?")
        if not os.path.exists(answer_path):
            raise wire.WireError("the kernel gave no answer to the grader's call")
        try:
            return wire.read(answer_path)
        finally:
            for done in (path, answer_path):
                if os.path.exists(done):
                    os.remove(done)

    def describe(self, name):
        answer = self.request({"describe": name})
        return answer if isinstance(answer, dict) else {}

    def get(self, name):
        return Outcome.from_dict(self.request({"get": name}))

    def call(self, name, args, kwargs, arg_names=(), count_lines=False):
        if name in self.hung:
            return Outcome(error={"type": "TimeoutError", "where": [],
                                  "message": f"an earlier call of {name} did not return within {self.call_timeout:g} s, "
                                             "so it was not called again"})
        try:
            return Outcome.from_dict(self.request({"call": name, "args": tuple(args), "kwargs": dict(kwargs),
                                                   "arg_names": list(arg_names), "count_lines": bool(count_lines)}))
        except TimeoutError:
            self.hung.add(name)
            return Outcome(error={"type": "TimeoutError", "where": [],
                                  "message": f"{name} did not return within {self.call_timeout:g} s"})
        except KernelGone as exc:
            return Outcome(error={"type": "KernelDied", "where": [], "message": str(exc)})
        except wire.WireError as exc:
            return Outcome(error={"type": "GraderCallFailed", "where": [], "message": str(exc)})


class RemoteFunction:
    """Stands, in the grader's process, for a function of the student's kernel."""

    def __init__(self, session, name):
        self.session = session
        self.name = name
        self.__name__ = name

    def remote_invoke(self, args, kwargs, arg_names=(), count_lines=False):
        return self.session.call(self.name, args, kwargs, arg_names, count_lines)

    def sibling(self, name):
        return RemoteFunction(self.session, name)

    def __call__(self, *args, **kwargs):
        """For test code that calls the function directly: the value, or StudentError."""
        outcome = self.remote_invoke(args, kwargs)
        if outcome.error:
            raise StudentError(self.name, outcome.error)
        return outcome.value

    def __repr__(self):
        return f"<the student's {self.name}>"


class StudentError(Exception):
    """The student's function raised (or could not be called)."""

    def __init__(self, name, error):
        from .checks import error_message
        super().__init__(error_message(name, error))
        self.name = name
        self.error = error
