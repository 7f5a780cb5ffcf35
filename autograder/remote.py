"""The grader's side of a student's kernel.

A request is a file the grader writes into the exchange folder, and the
kernel's autograder.harness answers it with a file beside it. The kernel is
asked through a pair of named pipes in that folder: one execute request starts
harness.serve_loop, which reads the paths of request files from one pipe and
says on the other when each answer is written, until the grader says stop
(before the notebook's next cell runs). A call then costs the call, not a
round of the kernel's messaging (about 9 ms on its own). Whatever comes back
is read with autograder.wire (plain data only) and counts as the student's
answer; anything that goes wrong on the way (the
student's code broke the harness, the call ran out of time, the kernel died)
becomes a failed call, never a passed one.
"""
import errno
import inspect
import itertools
import os
import secrets
import stat
import time
from queue import Empty

import zmq
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
    wait_for_idle = 0.02  # an iopub subscription made just now can miss the idle status: ask again, soon
    while True:
        msg_id = kc.kernel_info()
        try:
            reply = await ensure_async(kc.shell_channel.get_msg(timeout=1))
        except Empty:
            reply = None
        if reply is not None and reply["parent_header"].get("msg_id") == msg_id:
            idle_by = time.monotonic() + wait_for_idle
            wait_for_idle = min(0.5, 2 * wait_for_idle)
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
        self._loop = None  # while harness.serve_loop runs in the kernel: _Loop
        self.dead_reason = None
        self.deadline = None  # the notebook's time limit (time.monotonic()), if any
        self.hung = set()  # functions a call of which ran out of time: later calls fail at once

    def close(self):
        self.finish_calls()
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
        self.finish_calls()
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
        self._give_up("the kernel did not stop after a call ran out of time, so it was shut down")

    def request(self, payload):
        """Send one request to the harness; returns its decoded answer."""
        path = os.path.join(self.exchange_dir, f"request-{next(self._ids)}.msg")
        answer_path = path + ".out"
        for stale in (path, answer_path):
            if os.path.exists(stale):
                os.remove(stale)
        wire.write(path, payload)
        try:
            if self.dead_reason:
                raise KernelGone(self.dead_reason)
            if self._loop is None:
                self._loop = _Loop(self)
            self._loop.ask(path)
            outcome = self._loop.wait(path, self._timeout())
            if outcome == "timeout":
                self._recover_after_timeout_in_loop(path)
                raise TimeoutError("the call did not return in time")
            if outcome == "ended":
                content = self._loop.ended
                self.finish_calls()
                if content.get("status") != "ok":
                    raise wire.WireError(f"the grader's call did not run in your kernel ({content.get('ename')}: "
                                         f"{str(content.get('evalue'))[:200]}); does the notebook replace Python's "
                                         "import machinery, IPython's hooks or the autograder's modules?")
                raise wire.WireError("the kernel gave no answer to the grader's call")
            return wire.read(answer_path)
        finally:
            for done in (path, answer_path):
                if os.path.exists(done):
                    os.remove(done)

    def finish_calls(self):
        """Stop the harness's loop of calls, if it runs: the kernel is free for the notebook's next cell."""
        if self._loop is None:
            return
        loop, self._loop = self._loop, None
        if loop.ended is None and not self.dead_reason:
            try:
                loop.ask("stop")
                stopped = loop.wait(None, 5) == "ended"
            except (wire.WireError, KernelGone):
                stopped = False
            if not stopped and not self.dead_reason:
                self._give_up("the kernel did not come back from the grader's calls, so it was shut down")
        loop.close()

    def _recover_after_timeout_in_loop(self, path):
        """Interrupt a call that ran too long: the loop reports the call or ends, and is retired either way
        (the interrupt may yet end it after its report: the next call starts another); a kernel that does
        neither is stopped."""
        try:
            _wait(self.km.interrupt_kernel())
            if self._loop.wait(path, 5) != "timeout":
                self.finish_calls()
                return
        except KernelGone:
            return
        except Exception:
            pass
        self._give_up("the kernel did not stop after a call ran out of time, so it was shut down")

    def _give_up(self, reason):
        """The kernel is of no more use: every later call and cell fails with reason."""
        self.mark_dead(reason)
        try:
            _wait(self.km.shutdown_kernel(now=True))
        except Exception:
            pass

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


class _Loop:
    """harness.serve_loop running in the kernel, and the two named pipes to it: the grader writes the path
    of a request file (or "stop") on one, the loop writes the path back on the other once the answer is
    written. The grader holds both pipes open for reading and writing, so no open blocks and nothing the
    kernel does makes them end."""

    def __init__(self, session):
        self.session = session
        self.ended = None  # the loop's execute_reply content, once it came
        # a name the kernel cannot guess ahead; opened without following links and checked, then made
        # the kernel's to open through the descriptor (its folder may hold anything the student put there)
        base = os.path.join(session.exchange_dir, f"loop-{next(session._ids)}-{secrets.token_hex(8)}")
        self.paths = (base + ".in", base + ".out")
        fds = []
        try:
            for path in self.paths:
                os.mkfifo(path, 0o600)
                fds.append(os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC))
                if not stat.S_ISFIFO(os.fstat(fds[-1]).st_mode):
                    raise FileExistsError(errno.EEXIST, "not the pipe the grader made", path)
                os.fchmod(fds[-1], 0o666)  # the kernel may run as another uid; the folder is its sandbox's alone
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            if exc.errno in (errno.EEXIST, errno.ELOOP):  # something the kernel put in the grader's way
                raise wire.WireError("the grader's pipe to your kernel was replaced") from exc
            raise
        self.requests, self.answers = fds
        self.buffer = b""
        self.msg_id = session.kc.execute(
            f"__import__('autograder.harness', fromlist=['serve_loop']).serve_loop{self.paths!r}",
            silent=True, store_history=False, allow_stdin=False)
        self.poller = zmq.Poller()
        self.poller.register(self.answers, zmq.POLLIN)
        self.poller.register(session.kc.shell_channel.socket, zmq.POLLIN)

    def ask(self, line):
        try:
            os.write(self.requests, line.encode() + b"\n")
        except BlockingIOError as exc:  # 64 KiB of requests the kernel never read
            raise wire.WireError("your kernel stopped reading the grader's calls") from exc

    def wait(self, path, timeout):
        """Until the loop says path's answer is written ("answered"), the loop ended ("ended"), or timeout
        seconds passed ("timeout"). KernelGone if the kernel died meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                if path is not None and line == path.encode():
                    return "answered"
            if self.ended is not None:
                return "ended"
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            ready = dict(self.poller.poll(int(min(left, 0.5) * 1000) + 1))
            if self.answers in ready:
                try:
                    self.buffer += os.read(self.answers, 65536)
                except BlockingIOError:
                    pass
                self.buffer = self.buffer[-65536:]  # lines that never end are not the harness's
            elif self.session.kc.shell_channel.socket in ready:
                reply = self.session.kc.shell_channel.get_msg(timeout=0)
                if reply["parent_header"].get("msg_id") == self.msg_id:
                    self.ended = reply["content"]
            elif not ready and not _wait(self.session.km.is_alive()):
                self.session.mark_dead("the kernel died during a call of the grader (os._exit, a crash, "
                                       "or out of memory)")
                raise KernelGone(self.session.dead_reason)

    def close(self):
        for fd in (self.requests, self.answers):
            os.close(fd)
        for path in self.paths:
            if os.path.exists(path):
                os.remove(path)


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
