"""Warm kernels (autograder/zygote.py): forked from a zygote that paid the imports, each in a
sandbox of its own, jailed as a cold kernel is, and nothing of one reaches the next or the zygote.

Runs as root (make test) and as the unprivileged nn-grader (scripts/unprivileged.py test).
"""
import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from autograder import zygote
from autograder.sandbox import (PLACEHOLDER, SANDBOX_PYTHONPATH, SandboxedKernelManager, find_placeholder,
                                sandbox_command, sandbox_mode)
from conftest import REPO, needs_sandbox

pytestmark = needs_sandbox
MODE = sandbox_mode()


async def _run(code, workdir, warm, dies):
    km = SandboxedKernelManager(workdir=str(workdir), warm=warm)
    await km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"])
    kc = km.client()
    kc.start_channels()
    out = []
    try:
        await kc.wait_for_ready(timeout=60)
        if dies:  # no reply will come: wait for the grader to see the kernel gone
            kc.execute(textwrap.dedent(code))
            deadline = time.monotonic() + 30
            while await km.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return await km.is_alive()
        await kc.execute_interactive(textwrap.dedent(code), timeout=60, output_hook=lambda msg: out.append(
            msg["content"].get("text", "") if msg["msg_type"] == "stream" else
            msg["content"].get("ename", "") + ": " + msg["content"].get("evalue", "") if msg["msg_type"] == "error"
            else ""))
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    return "".join(out)


def run_in_kernel(code, workdir, warm=True, dies=False):
    """What code printed in a kernel of its own (the last line: JSON, for the test to read); with
    dies, code ends the kernel, and the result says whether the kernel still looked alive after."""
    os.makedirs(workdir, exist_ok=True)
    return asyncio.run(_run(code, workdir, warm, dies))


def facts(workdir, warm=True):
    out = run_in_kernel("""
        import json, os, resource, socket, sys
        import autograder
        status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
        print(json.dumps({
            "caps": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")},
            "no_new_privs": status["NoNewPrivs"].strip(), "uids": status["Uid"].split(),
            "pid": os.getpid(), "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
            "cwd": os.getcwd(), "repo": os.path.exists(%r), "solutions": "solutions" in sys.modules,
            "autograder": list(autograder.__path__), "path": sys.path,
            "memory": resource.getrlimit(resource.RLIMIT_AS)[0], "interfaces": [n for _, n in socket.if_nameindex()],
            "numpy": "numpy" in sys.modules}))
        """ % os.path.join(REPO, "solutions"), workdir, warm)
    return json.loads(out.strip().splitlines()[-1])


def _stat(pid):
    """/proc/<pid>/stat's fields after the command name: [state, parent pid, ...]."""
    return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()


async def _parent_once_orphaned(pid, expected):
    """The kernel's parent, once it is expected (the zygote that reaps it), or after 5 s whatever it is."""
    deadline = time.monotonic() + 5
    while True:
        parent = int(_stat(pid)[1])
        if parent == expected or time.monotonic() > deadline:
            return parent
        await asyncio.sleep(0.01)


def test_a_warm_kernel_is_jailed_as_a_cold_one(tmp_path):
    warm, cold = facts(tmp_path / "warm"), facts(tmp_path / "cold", warm=False)
    for found in (warm, cold):
        assert set(found["caps"].values()) == {"0000000000000000"}, found["caps"]
        assert found["no_new_privs"] == "1"
        assert found["uids"] == [found["uids"][0]] * 4
        assert int(found["uids"][0]) != 0 if MODE == "root" else int(found["uids"][0]) == os.getuid()
        assert found["repo"] is False and found["solutions"] is False
        assert found["autograder"] == [os.path.join(SANDBOX_PYTHONPATH, "autograder")]
        assert found["memory"] == 2048 * 2 ** 20
        assert found["interfaces"] == ["lo"]
    assert set(warm["path"]) == set(cold["path"]) and REPO not in warm["path"]
    assert warm["cwd"] == str(tmp_path / "warm") and cold["cwd"] == str(tmp_path / "cold")
    # bubblewrap's init, then the kernel (cold) or the placeholder and the kernel (warm): nothing else
    assert cold["pids"] == [1, cold["pid"]]
    assert warm["pids"] == [1, 2, warm["pid"]]
    assert warm["numpy"] and not cold["numpy"]  # the warm kernel's imports were paid in the zygote


def test_nothing_of_one_warm_kernel_reaches_the_next(tmp_path):
    first = tmp_path / "first"
    run_in_kernel("""
        import os, subprocess, sys, numpy
        numpy.leak = "first"
        os.environ["LEAK"] = "first"
        sys.modules["leaky"] = numpy
        open("/tmp/leak", "w").write("first")
        open("answer.txt", "w").write("first")
        subprocess.Popen(["sleep", "1000"], start_new_session=True)
        if os.fork() == 0:  # a daemon, orphaned at once
            if os.fork() == 0:
                os.setsid()
                import time; time.sleep(1000)
            os._exit(0)
        """, first)
    assert (first / "answer.txt").read_text() == "first"
    out = run_in_kernel(f"""
        import json, os, sys, numpy
        print(json.dumps({{"numpy": hasattr(numpy, "leak"), "env": "LEAK" in os.environ,
                           "module": "leaky" in sys.modules, "tmp": os.path.exists("/tmp/leak"),
                           "first": os.path.exists({str(first)!r}),
                           "others": [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, 2, os.getpid())]}}))
        """, tmp_path / "second")
    assert json.loads(out.strip().splitlines()[-1]) == {"numpy": False, "env": False, "module": False, "tmp": False,
                                                         "first": False, "others": []}
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", "^sleep 1000$"], capture_output=True, text=True).stdout.split()
    assert left == [], "the first kernel's processes outlived it"


def test_a_kernel_cannot_reach_the_zygote(tmp_path):
    run_in_kernel("import numpy", tmp_path / "warm-up")
    before = zygote.shared().process.pid
    out = run_in_kernel("""
        import os, signal
        seen = []
        for p in os.listdir("/proc"):
            if p.isdigit() and p != "1":  # 1: bubblewrap's init, whose command line names the bound folders
                try:
                    seen.append(open(f"/proc/{p}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
                except OSError:
                    pass
        assert not [c for c in seen if "zygote" in c or "autograde" in c], seen
        assert "ipykernel_launcher" in open("/proc/self/cmdline").read(), "its own command line is a kernel's"
        os.kill(-1, signal.SIGKILL)  # every process it may signal, itself included
        """, tmp_path / "attacker", dies=True)
    assert out is False  # it saw no zygote (else the assert above had failed and the kernel lived on)
    assert zygote.shared().alive() and zygote.shared().process.pid == before
    assert facts(tmp_path / "after")["no_new_privs"] == "1"  # the zygote still serves the next notebook


def test_a_kernel_that_cannot_enter_its_sandbox_is_a_zygote_error(tmp_path):
    proc = subprocess.Popen(sandbox_command(list(PLACEHOLDER), str(tmp_path)), stdin=subprocess.DEVNULL)
    try:
        placeholder = find_placeholder(proc)
        request = {"workdir": str(tmp_path / "not-in-the-sandbox"), "argv": [], "env": {"PYTHONPATH": SANDBOX_PYTHONPATH},
                   "uid": 60999 if MODE == "root" else None, "rlimits": {}}
        with pytest.raises(zygote.ZygoteError, match="could not enter its sandbox: (FileNotFound|Permission)Error"):
            zygote.shared().spawn(placeholder.pid, request)
    finally:
        proc.kill()
        proc.wait()
    assert facts(tmp_path / "next")["no_new_privs"] == "1"


def test_a_dead_zygote_is_started_again(tmp_path):
    run_in_kernel("pass", tmp_path / "first")
    zygote.shared().process.send_signal(signal.SIGKILL)
    zygote.shared().process.wait()
    assert facts(tmp_path / "second")["numpy"]


def test_a_kernel_that_exits_is_seen_gone_with_its_sandbox(tmp_path):
    """A student's os._exit: the grader sees the kernel dead at once, as with a cold kernel, and the
    sandbox's placeholder goes with it."""
    async def exit_and_watch():
        km = SandboxedKernelManager(workdir=str(tmp_path), warm=True)
        await km.start_kernel()
        placeholder = km.provisioner.process.placeholder.pid
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            kc.execute("import os; os._exit(3)")
            deadline = time.monotonic() + 10
            while await km.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return await km.is_alive(), os.path.exists(f"/proc/{placeholder}")
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
    assert asyncio.run(exit_and_watch()) == (False, False)


def test_an_exited_kernel_is_reaped_by_the_zygote(tmp_path):
    """Orphaned as soon as the zygote's child that forked it exits, the kernel is the zygote's child
    (a subreaper) and is reaped when it ends, never a zombie left to the system's init."""
    async def start_and_stop():
        km = SandboxedKernelManager(workdir=str(tmp_path), warm=True)
        await km.start_kernel()
        pid = km.provisioner.process.kernel_pid
        parent = await _parent_once_orphaned(pid, zygote.shared().process.pid)
        await km.shutdown_kernel(now=True)
        return pid, parent
    pid, parent = asyncio.run(start_and_stop())
    assert parent == zygote.shared().process.pid
    deadline = time.monotonic() + 5  # the zygote reaps between requests, at least once a second
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{pid}"), "the kernel is left a zombie"


def _kernel_parent(workdir, expected_parent, kill_first=None):
    """In a process forked from the test's: (zygotes this process started, the parent of a warm
    kernel it started and that answered, once the kernel is orphaned)."""
    if kill_first:  # the shared zygote dies before this process asks it for a kernel
        os.kill(kill_first, signal.SIGKILL)
        while os.path.exists(f"/proc/{kill_first}") and _stat(kill_first)[0] != "Z":
            time.sleep(0.01)

    async def start_and_stop():
        km = SandboxedKernelManager(workdir=workdir, warm=True)
        await km.start_kernel()
        pid = km.provisioner.process.kernel_pid
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)  # the kernel this process asked for, not another's
            # None: the zygote this process started (its shared one was dead)
            return await _parent_once_orphaned(pid, expected_parent or zygote.shared().process.pid)
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
    os.makedirs(workdir, exist_ok=True)
    parent = asyncio.run(start_and_stop())
    return zygote.shared().starts, parent


@pytest.mark.parametrize("ready", [True, False], ids=["ready", "still-importing"])
def test_workers_forked_from_a_process_with_a_zygote_share_it(tmp_path, ready):
    """autograde's pool: the command's zygote serves every worker (each request has its own answer
    socket, so workers asking at once never get each other's kernels); no worker imports again,
    even when the workers were forked before the zygote's imports were done."""
    import multiprocessing
    if not ready:
        zygote.shared().close()
    zygote.warm_up(wait=ready)
    pid = zygote.shared().process.pid
    assert (zygote.shared().imports is not None) == ready
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.starmap(_kernel_parent, [(str(tmp_path / f"k{i}"), pid) for i in range(4)])
    assert results == [(0, pid)] * 4


def test_a_worker_whose_shared_zygote_died_starts_its_own(tmp_path):
    import multiprocessing
    zygote.warm_up()
    pid = zygote.shared().process.pid
    with multiprocessing.get_context("fork").Pool(1) as pool:
        starts, parent = pool.apply(_kernel_parent, (str(tmp_path / "k"), None, pid))
    assert starts == 1 and parent != pid
    zygote.shared().ready()  # the test's own zygote is started again for the next test


_failing = None  # a zygote whose imports fail, for the processes forked from the test


def _ready_error():
    try:
        _failing.inherited().ready()
    except zygote.ZygoteError as exc:
        return str(exc)
    return None


def test_a_zygote_whose_imports_fail_says_why_to_every_process_that_shares_it(monkeypatch):
    """A fault of the grader's set-up, said to the command and to each worker forked from it (not a
    hang, not a worker waiting for an answer another one read)."""
    global _failing
    import multiprocessing
    monkeypatch.setattr(zygote, "WARM_IMPORTS", ("numpy", "no_module_of_this_name"))
    _failing = zygote.Zygote()
    _failing.start()
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            errors = pool.starmap(_ready_error, [()] * 2)
        with pytest.raises(zygote.ZygoteError) as raised:
            _failing.ready()
    finally:
        _failing.close()
    reason = "the warm-kernel zygote could not start: ModuleNotFoundError: No module named 'no_module_of_this_name'"
    assert errors == [reason] * 2 and str(raised.value) == reason


def test_autograde_keeps_no_zygote_when_the_configuration_turns_warm_kernels_off(tmp_path, monkeypatch):
    """autograde starts the zygote early when the course's own files ask for warm kernels (the default);
    when nbgrader's full configuration (here the instructor's own Jupyter configuration) turns them off,
    the early zygote is stopped and the submission is graded with a cold kernel."""
    from autograder import pipeline
    from autograder.course import Course
    from conftest import course_env, course_silent_on_warm_kernels, make_course, sample_subset
    root = make_course(str(tmp_path / "course"))
    course_silent_on_warm_kernels(root)
    proc = subprocess.run([sys.executable, "-m", "autograder", "release", "02_logistic_vectorized"], cwd=root,
                          env=course_env(root), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sample_subset(root, {("ben", "02_logistic_vectorized")})
    (tmp_path / "jupyter").mkdir()
    (tmp_path / "jupyter" / "nbgrader_config.py").write_text("c.GradeInSandbox.warm_kernels = False\n")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter"))
    monkeypatch.setenv("NN_COURSE_ROOT", root)
    assert Course(root).warm_kernels_at_a_glance() and not Course(root).warm_kernels
    zygote.shared().close()
    starts = zygote.shared().starts
    jobs = pipeline.autograde(root, workers=1, quiet=True)
    assert [job.status for job in jobs] == ["graded"]
    assert zygote.shared().starts == starts + 1 and zygote.shared().process is None
