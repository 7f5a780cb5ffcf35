"""The sandbox a student's kernel runs in: what code inside it can and cannot do.

The same tests run as root (make test) and as an unprivileged user
(scripts/unprivileged.py test, which make test runs next): the sandbox's
root mode and its rootless mode. Where a guarantee differs by mode, the test
says so and asserts the mode's own guarantee.
"""
import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from autograder import sandbox
from autograder.sandbox import sandbox_command, sandbox_mode, watch
from conftest import REPO, needs_sandbox


pytestmark = needs_sandbox
MODE = sandbox_mode()


def run_inside(code, workdir, **limits):
    cmd = sandbox_command([sys.executable, "-c", textwrap.dedent(code)], str(workdir), **limits)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_the_course_tree_is_out_of_sight(tmp_path):
    proc = run_inside(f"""
        import os
        for path in [{REPO!r} + "/solutions", {REPO!r} + "/source", {REPO!r} + "/course_config.py", "/home", "/etc/shadow", "/work/shared"]:
            print(path, os.path.exists(path) and bool(os.listdir(path) if os.path.isdir(path) else True))
        try:
            import solutions.logistic_loop
            print("imported solutions")
        except ImportError:
            print("no solutions")
        """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "imported solutions" not in proc.stdout and "no solutions" in proc.stdout
    assert " True" not in proc.stdout, proc.stdout


def test_the_harness_and_numpy_import(tmp_path):
    proc = run_inside("import autograder.harness, numpy, matplotlib.pyplot; print('ok')", tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_writes_only_its_own_folder(tmp_path):
    outside = tmp_path / "other_student"
    outside.mkdir()
    (outside / "answer.txt").write_text("mine")
    workdir = tmp_path / "work"
    workdir.mkdir()
    proc = run_inside(f"""
        import os
        open("mine.txt", "w").write("ok")
        for path in [{str(outside / 'answer.txt')!r}, {REPO!r} + "/gradebook.db", {REPO!r} + "/x", "/usr/x"]:
            try:
                open(path, "w").write("overwritten")
                print("wrote", path)
            except OSError as exc:
                print("refused", path)
        """, workdir)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" not in proc.stdout, proc.stdout
    assert (workdir / "mine.txt").read_text() == "ok"
    assert (outside / "answer.txt").read_text() == "mine"


def test_its_folders_are_its_own(tmp_path):
    """No other local user (another student on the same JupyterHub host) may plant files in the kernel's folders:
    0700, the kernel's own uid's as root, the grader's (which the kernel has) without root."""
    folders = [tmp_path / "work", tmp_path / "exchange"]
    for folder in folders:
        folder.mkdir()
        folder.chmod(0o777)
    cmd = sandbox_command(["true"], str(folders[0]), extra_rw=(str(folders[1]),), uid=234567)
    for folder in folders:
        info = folder.stat()
        assert info.st_mode & 0o777 == 0o700, oct(info.st_mode)
        assert info.st_uid == (234567 if MODE == "root" else os.getuid()), info.st_uid
    assert subprocess.run(cmd).returncode == 0


def test_no_network_no_root(tmp_path):
    proc = run_inside("""
        import os, socket
        print("uid", os.getuid())
        try:
            socket.create_connection(("1.1.1.1", 80), timeout=3)
            print("connected")
        except OSError:
            print("no network")
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        print("caps", *(status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")))
        print("no_new_privs", status["NoNewPrivs"].strip())
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x10000000) == 0:  # CLONE_NEWUSER
            print("new user namespace")
        else:
            print("no new user namespace", ctypes.get_errno())
        """, tmp_path)
    assert "no network" in proc.stdout and "connected" not in proc.stdout
    assert "uid 0" not in proc.stdout
    assert "caps " + " ".join(["0000000000000000"] * 5) in proc.stdout, proc.stdout
    assert "no_new_privs 1" in proc.stdout, proc.stdout
    if MODE == "root":  # a uid of its own, not the grader's
        assert f"uid {os.getuid()}" not in proc.stdout
    else:  # the grader's uid, in a user namespace without capabilities, where no further one can be made
        assert f"uid {os.getuid()}" in proc.stdout
        if sandbox.bwrap_supports("--disable-userns"):
            assert "no new user namespace" in proc.stdout, proc.stdout


def test_memory_and_process_limits(tmp_path):
    """Root: RLIMIT_NPROC of the kernel's own uid refuses the fork. Rootless: RLIMIT_NPROC where Linux counts it
    per user namespace (5.14 and later) refuses it the same way; before, the watchdog kills the sandbox."""
    refused_by_the_kernel = MODE == "root" or sandbox.nproc_counts_per_namespace()
    cmd = sandbox_command([sys.executable, "-c", textwrap.dedent("""
        try:
            block = bytearray(3 * 2 ** 30)
            print("allocated")
        except MemoryError:
            print("memory refused", flush=True)
        import os
        pids = []
        try:
            for _ in range(200):
                pid = os.fork()
                if pid == 0:
                    import time; time.sleep(30); os._exit(0)
                pids.append(pid)
        except OSError:
            print("fork refused after", len(pids), flush=True)
        """)], str(tmp_path), memory_mb=1024, max_processes=32)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dog = watch(proc, max_processes=32) if MODE == "rootless" else None
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if dog:
            dog.close()
    assert "memory refused" in out, out + err
    assert dog is None or dog.peak > 1, "the watchdog never saw the sandbox's processes"
    if refused_by_the_kernel:
        assert "fork refused after" in out, out
        assert int(out.split("fork refused after")[1].split()[0]) <= 32
        assert dog is None or dog.tripped is None, dog.tripped
    else:
        assert dog.tripped and proc.returncode == 128 + signal.SIGKILL, (dog.tripped, proc.returncode, out)


def test_nothing_outlives_the_sandbox(tmp_path):
    marker = "nn-course-sleeper-" + os.urandom(4).hex()
    proc = run_inside(f"""
        import os, subprocess, time
        subprocess.Popen(["{marker}", "300"], executable="/bin/sleep", start_new_session=True)
        if os.fork() == 0:                         # a daemon: fork, setsid, fork
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["{marker}", "301"])
            os._exit(0)
        os.wait()

        def running():
            names = []
            for p in filter(str.isdigit, os.listdir("/proc")):
                try:
                    names.append(open(f"/proc/{{p}}/cmdline").read().split("\\0")[0])
                except OSError:
                    pass
            return names.count("{marker}")
        for _ in range(100):
            if running() == 2:
                break
            time.sleep(0.05)
        print("started", running())
        """, tmp_path)
    assert "started 2" in proc.stdout, proc.stdout + proc.stderr  # they ran, in the sandbox
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert marker not in ps


# ---- the grader's own process ---------------------------------------------------------------------

REACH_GRADER = """
    import ctypes, errno, json, os, signal
    grader, canary = {grader}, {canary}
    libc = ctypes.CDLL(None, use_errno=True)
    found = {{}}

    def attempt(label, action):
        try:
            action()
            found[label] = "OK"
        except OSError as exc:
            found[label] = errno.errorcode.get(exc.errno, str(exc.errno))

    def call(function, *args):  # a libc call: -1 and errno on failure
        ctypes.set_errno(0)
        if function(*args) == -1:
            raise OSError(ctypes.get_errno(), function.__name__)

    def read(path):
        with open(path, "rb") as f:
            f.read(64)

    class IoVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    buf, limits = ctypes.create_string_buffer(64), (ctypes.c_ulong * 2)()
    local, remote = IoVec(ctypes.addressof(buf), 64), IoVec(0x400000, 64)
    for pid, who in ((grader, "grader"), (canary, "canary")):
        attempt(f"kill0_{{who}}", lambda: os.kill(pid, 0))
        attempt(f"kill_{{who}}", lambda: os.kill(pid, signal.SIGKILL))
        attempt(f"pidfd_{{who}}", lambda: os.close(os.pidfd_open(pid)))
        attempt(f"ptrace_{{who}}", lambda: call(libc.ptrace, 16, pid, None, None))           # PTRACE_ATTACH
        attempt(f"vm_read_{{who}}", lambda: call(libc.process_vm_readv, pid, ctypes.byref(local), 1,
                                                   ctypes.byref(remote), 1, 0))
        attempt(f"prlimit_{{who}}", lambda: call(libc.prlimit, pid, 6, None, limits))        # RLIMIT_NPROC
        attempt(f"setpriority_{{who}}", lambda: os.setpriority(os.PRIO_PROCESS, pid, 19))
        for name in ("mem", "environ", "cmdline", "maps", "status"):
            attempt(f"proc_{{name}}_{{who}}", lambda: read(f"/proc/{{pid}}/{{name}}"))
    visible = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    print(json.dumps({{"found": found, "visible": visible}}), flush=True)
    sibling = os.fork()
    if sibling == 0:
        os.execv("/bin/sleep", ["sleep", "100"])
    os.kill(-1, signal.SIGKILL)  # every process it may signal: those of its own namespace, not the grader's
    _, status = os.waitpid(sibling, 0)
    print("killed everything it could, its own sleep too:", os.WIFSIGNALED(status), flush=True)
"""


def test_the_grader_is_out_of_reach(tmp_path):
    """Neither mode lets the kernel signal, trace, read the memory of or re-limit the grader or any process of
    the grader's uid (rootless: the same uid; only the pid namespace and its own /proc stand between them)."""
    canary = subprocess.Popen(["sleep", "300"])
    try:
        proc = run_inside(REACH_GRADER.format(grader=os.getpid(), canary=canary.pid), tmp_path)
        assert "killed everything it could, its own sleep too: True" in proc.stdout, proc.stdout + proc.stderr
        report = json.loads(proc.stdout.splitlines()[0])
        found, visible = report["found"], report["visible"]
        assert len(found) == 2 * 12, found
        assert not [label for label, result in found.items() if result == "OK"], found
        assert set(found.values()) <= {"ESRCH", "ENOENT"}, found
        assert os.getpid() not in visible and canary.pid not in visible and max(visible) < 100, visible
        assert canary.poll() is None, "kill(-1) in the sandbox reached a process of the grader"
    finally:
        canary.kill()
        canary.wait()


def _tasks_of(uid):
    total = 0
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/status") as f:
                status = dict(line.split(":", 1) for line in f)
            if int(status["Uid"].split()[0]) == uid:
                total += int(status["Threads"])
        except (OSError, KeyError, ValueError):
            pass
    return total


BOMB = """
    import os, sys, time
    forks = 0
    try:
        for _ in range(400):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            forks += 1
    except OSError as exc:
        print("fork refused after", forks, flush=True)
    print("bombed", forks, flush=True)
    time.sleep(60)
"""

# the grader's side: a process limit with little headroom above what its uid runs already, a bomb (sandboxed
# or not), then ten processes of its own while the bomb holds everything it could start
GRADER = """
    import json, os, resource, subprocess, sys, time
    cmd, headroom, used = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_NPROC, (used + headroom, resource.getrlimit(resource.RLIMIT_NPROC)[1]))
    bomb = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
    watched = None
    if len(sys.argv) > 4:
        from autograder.sandbox import watch
        watched = watch(bomb, int(sys.argv[4]))
    lines = []
    for line in bomb.stdout:
        lines.append(line.strip())
        if line.startswith("bombed"):
            break
    spawned = 0
    for _ in range(10):
        try:
            subprocess.run(["true"], check=True)
            spawned += 1
        except OSError:
            pass
    os.killpg(bomb.pid, 9)
    bomb.wait()
    print(json.dumps({"spawned": spawned, "bomb": lines, "tripped": watched and watched.tripped}))
"""


def _grader_during_a_bomb(bomb_cmd, headroom, max_processes=None):
    env = dict(os.environ, PYTHONPATH=REPO)
    args = [sys.executable, "-c", textwrap.dedent(GRADER), json.dumps(bomb_cmd), str(headroom),
            str(_tasks_of(os.getuid()) + 4)]
    if max_processes:
        args.append(str(max_processes))
    proc = subprocess.run(args, capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_fork_bomb_does_not_starve_the_grader(tmp_path):
    """The grader can still start processes while a fork bomb in the sandbox holds all it could start. Root:
    the bomb counts against the kernel's own uid, root ignores RLIMIT_NPROC. Rootless: the bomb runs as the
    grader's uid; its processes are bounded by RLIMIT_NPROC in its user namespace (or the watchdog), so a
    grader whose own limit leaves 60 processes of headroom keeps starting its own, while the same bomb outside
    the sandbox takes that headroom away (the control: the measure can fail)."""
    max_processes = 24
    sandboxed = sandbox_command([sys.executable, "-c", textwrap.dedent(BOMB)], str(tmp_path),
                                max_processes=max_processes)
    result = _grader_during_a_bomb(sandboxed, 60, max_processes if MODE == "rootless" else None)
    assert result["spawned"] == 10, result
    forks = int(result["bomb"][-1].split()[1]) if result["bomb"] else None
    if MODE == "root" or sandbox.nproc_counts_per_namespace():
        assert any(line.startswith("fork refused after") for line in result["bomb"]), result
        assert forks is not None and forks < max_processes, result
    else:
        assert result["tripped"], result
    if MODE == "rootless":
        control = _grader_during_a_bomb([sys.executable, "-c", textwrap.dedent(BOMB)], 60)
        assert control["spawned"] < 10, control
        assert any(line.startswith("fork refused after") for line in control["bomb"]), control


@pytest.mark.skipif(MODE != "rootless", reason="root mode: a uid per kernel and its own RLIMIT_NPROC; no watchdog")
@pytest.mark.parametrize("kernel", ["this one", "without pidfd_open or /proc/PID/task/PID/children"])
def test_the_watchdog_kills_what_the_kernel_does_not_count(tmp_path, monkeypatch, kernel):
    """Where Linux counts RLIMIT_NPROC per real uid (before 5.14), a rootless sandbox has no --nproc: the
    watchdog is its process limit. Forced here: it kills the whole namespace, and nothing is left. Also as on
    a kernel without pidfds (before 5.3) or CONFIG_PROC_CHILDREN."""
    monkeypatch.setattr(sandbox, "nproc_counts_per_namespace", lambda: False)
    if kernel != "this one":
        def no_pidfd(pid):
            raise OSError(errno.ENOSYS, "pidfd_open")
        read = sandbox._read
        monkeypatch.setattr(sandbox.os, "pidfd_open", no_pidfd)
        monkeypatch.setattr(sandbox, "_read", lambda path: None if path.endswith("/children") else read(path))
    marker = "nn-course-bomb-" + os.urandom(4).hex()
    cmd = sandbox_command([sys.executable, "-c", textwrap.dedent(f"""
        import os, time
        for _ in range(300):
            if os.fork() == 0:
                os.execv("/bin/sleep", ["{marker}", "120"])
            time.sleep(0.005)
        print("not stopped", flush=True)
        time.sleep(60)
        """)], str(tmp_path), max_processes=16)
    assert not any(arg.startswith("--nproc") for arg in cmd)
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    dog = watch(proc, max_processes=16)
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        dog.close()
    assert dog.tripped and dog.tripped > 17 and dog.init_pid, (dog.tripped, dog.init_pid)
    assert proc.returncode == 128 + signal.SIGKILL and "not stopped" not in out  # bwrap: its child was killed
    assert time.monotonic() - started < 30
    time.sleep(0.5)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert marker not in ps


def test_no_user_namespaces_says_what_to_enable(tmp_path, monkeypatch):
    """Where bwrap --unshare-user is refused, the reason names the settings to change."""
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    reason = sandbox.userns_refused()
    assert "No permissions to create new namespace" in reason
    assert "user.max_user_namespaces" in reason and "--no-sandbox" in reason


def _kernel_forks(tmp_path, count):
    """A sandboxed kernel (the grading path's kernel manager, limit 16) that forks count sleeping children:
    (what the cell reported or None, the kernel's watchdog or None, whether the kernel is alive after)."""
    import asyncio
    from autograder.sandbox import SandboxedKernelManager
    km = SandboxedKernelManager(workdir=str(tmp_path), max_processes=16)
    asyncio.run(km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"]))
    kc = km.blocking_client()
    kc.start_channels()
    outputs = []
    try:
        kc.wait_for_ready(timeout=60)
        try:
            kc.execute_interactive(textwrap.dedent(f"""
                import os, time
                forks = 0
                try:
                    for _ in range({count}):
                        if os.fork() == 0:
                            time.sleep(60)
                            os._exit(0)
                        forks += 1
                        time.sleep(0.01)
                    print("forked", forks)
                except OSError:
                    print("fork refused after", forks)
                """), timeout=10, output_hook=lambda msg: outputs.append(msg["content"].get("text", "")))
        except TimeoutError:
            pass
        deadline = time.monotonic() + 10
        while asyncio.run(km.is_alive()) and km.watchdog and km.watchdog.tripped and time.monotonic() < deadline:
            time.sleep(0.1)
        return "".join(outputs) or None, km.watchdog, asyncio.run(km.is_alive())
    finally:
        kc.stop_channels()
        asyncio.run(km.shutdown_kernel(now=True))


def test_the_kernels_process_limit_in_the_grading_path(tmp_path, monkeypatch):
    """SandboxedKernelManager, as grading uses it: 40 forks against a limit of 16. Root, and rootless where
    Linux counts RLIMIT_NPROC per user namespace: the fork is refused and the kernel goes on. Rootless
    otherwise (forced here to check it): the watchdog kills the kernel's sandbox."""
    (tmp_path / "counted").mkdir()
    said, dog, alive = _kernel_forks(tmp_path / "counted", 40)
    if MODE == "root" or sandbox.nproc_counts_per_namespace():
        assert said and "fork refused after" in said and alive, (said, alive)
        assert dog is None or (dog.peak > 1 and dog.tripped is None), dog and (dog.peak, dog.tripped)
    if MODE == "rootless":
        assert dog is not None and dog.init_pid
        monkeypatch.setattr(sandbox, "nproc_counts_per_namespace", lambda: False)
        (tmp_path / "watched").mkdir()
        said, dog, alive = _kernel_forks(tmp_path / "watched", 40)
        assert dog.tripped and not alive, (said, dog.tripped, alive)
        assert not said or "forked 40" not in said
