"""The sandbox a student's kernel runs in: what code inside it can and cannot do."""
import os
import subprocess
import sys
import textwrap

import pytest

from autograder.sandbox import SandboxUnavailable, check_sandbox, sandbox_command

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

try:
    check_sandbox()
    REASON = None
except SandboxUnavailable as exc:
    REASON = str(exc)
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no sandbox here: {REASON}")


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


def test_no_network_no_root(tmp_path):
    proc = run_inside("""
        import os, socket
        print("uid", os.getuid())
        try:
            socket.create_connection(("1.1.1.1", 80), timeout=3)
            print("connected")
        except OSError:
            print("no network")
        """, tmp_path)
    assert "no network" in proc.stdout and "connected" not in proc.stdout
    assert "uid 0" not in proc.stdout


def test_memory_and_process_limits(tmp_path):
    proc = run_inside("""
        try:
            block = bytearray(3 * 2 ** 30)
            print("allocated")
        except MemoryError:
            print("memory refused")
        import os
        pids = []
        try:
            for _ in range(200):
                pid = os.fork()
                if pid == 0:
                    import time; time.sleep(30); os._exit(0)
                pids.append(pid)
        except OSError:
            print("fork refused after", len(pids))
        """, tmp_path, memory_mb=1024, max_processes=32)
    assert "memory refused" in proc.stdout, proc.stdout + proc.stderr
    assert "fork refused after" in proc.stdout, proc.stdout


def test_nothing_outlives_the_sandbox(tmp_path):
    marker = "nn-course-sleeper-" + os.urandom(4).hex()
    run_inside(f"""
        import subprocess
        subprocess.Popen(["sh", "-c", "exec -a {marker} sleep 300"], start_new_session=True)
        print("started")
        """, tmp_path)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert marker not in ps
