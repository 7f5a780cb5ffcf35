"""The student's experience as a student meets it: the release of assignment 01
opened in JupyterLab in a real (headless) Chromium.

A copy of release/01_logistic_loop/ is served by a real JupyterLab server whose
environment has the course's checking vocabulary but not the reference
solutions. Through the page the test runs all cells (Run > Run All Cells) and
reads the visible test's message for an unimplemented function, types a correct
sigmoid into its answer cell, re-runs it and its test cell (Shift+Enter twice)
and reads that the visible checks passed, then clicks nbgrader's Validate
button. Screenshots of every step go to test-artifacts/browser/ (git-ignored).

With the exchange (test_student_submits_from_the_assignment_list_and_reads_feedback):
a student who is a Unix user of their own runs their own JupyterLab, fetches 01
from nbgrader's Assignment List, writes sigmoid, submits; `python -m autograder
serve` grades it; the student fetches the feedback and opens the page, whose
score is the gradebook's. Screenshots in test-artifacts/browser-exchange/.

Needs the Debian packages chromium and chromium-driver (scripts/system-packages
installs them when run as root) and selenium (the `test` extra); skipped
otherwise. Nothing is downloaded at run time: the driver is /usr/bin/chromedriver
and Selenium Manager is kept offline.
"""
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import nbformat
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSIGNMENT = "01_logistic_loop"
RELEASE = os.path.join(REPO, "release", ASSIGNMENT)
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
FUNCTION = "sigmoid"                       # the function the test fills in through the page
# The answer typed into sigmoid's cell, one line at a time: the editor indents
# the body after "def ...:" and keeps that indentation on each new line.
ANSWER = ["def sigmoid(z):",
          "z = np.asarray(z, dtype=float)",
          "e = np.exp(-np.abs(z))",
          "s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
          "return float(s) if s.ndim == 0 else s"]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
JUPYTER = os.path.join(os.path.dirname(sys.executable), "jupyter")
ARTIFACTS = os.path.join(REPO, "test-artifacts", "browser")
STUB_MESSAGE = "the function is still the stub: write your solution where it says YOUR CODE HERE"

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - depends on the machine
    webdriver = None

pytestmark = [
    pytest.mark.skipif(webdriver is None, reason="selenium is not installed (pip install -e '.[test]')"),
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"{CHROMIUM} is missing (apt-get install chromium chromium-driver)"),
    pytest.mark.skipif(not os.access(CHROMEDRIVER, os.X_OK),
                       reason=f"{CHROMEDRIVER} is missing (apt-get install chromium-driver)"),
    pytest.mark.skipif(not os.path.exists(os.path.join(RELEASE, NOTEBOOK)),
                       reason=f"release/{ASSIGNMENT}/{NOTEBOOK} does not exist yet"),
]


# ---- processes --------------------------------------------------------------

def _pids_mentioning(marker):
    """Processes whose command line mentions marker (a unique temporary path),
    or that run inside it."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    mentions = marker.encode() in f.read()
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if mentions or cwd == marker or cwd.startswith(marker + os.sep):
                pids.append(int(entry))
    return pids


def _kill_leftovers(marker):
    """End, by their ids, the processes this test started that are still alive."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _pids_mentioning(marker)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + 5
        while pids and time.time() < deadline:
            time.sleep(0.2)
            pids = _pids_mentioning(marker)
        if not pids:
            return


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def student_env(home):
    """The student's environment: this venv's JupyterLab, nbgrader and autograder
    package, a clean Jupyter configuration, and no way to import the reference
    solutions (no PYTHONPATH to the repository; the kernel runs in the copy)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "JUPYTER", "IPYTHON"))}
    env.update(PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"), JUPYTER_PLATFORM_DIRS="1")
    return env


@pytest.fixture
def lab(tmp_path):
    """A real JupyterLab server on a copy of the release; yields (url, folder, env)."""
    home = tmp_path / "jupyter"
    folder = tmp_path / "student"
    shutil.copytree(RELEASE, folder)
    env = student_env(home)
    probe = subprocess.run([sys.executable, "-c", "import autograder.checks\nimport solutions"],
                           cwd=folder, env=env, capture_output=True, text=True)
    assert "No module named 'solutions'" in probe.stderr, "the student environment can import the solutions"

    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp_path / "jupyter-lab.log", "wb")
    proc = subprocess.Popen([JUPYTER, "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
                             "--ServerApp.port_retries=0"] + (["--allow-root"] if os.geteuid() == 0 else []),
                            cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(proc, base, token, log, tmp_path / "jupyter-lab.log")
        yield base, token, folder, env
    finally:
        _stop_lab(proc, base, token, log)
        _kill_leftovers(str(home / "runtime"))  # kernels (their connection files live there)
        _kill_leftovers(str(folder))


def _wait_until_up(proc, base, token, log, log_path, timeout=120):
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            log.flush()
            pytest.fail("JupyterLab did not start:\n" + open(log_path).read()[-3000:])
        time.sleep(0.3)


def _stop_lab(proc, base, token, log):
    try:  # stops the kernels too
        urllib.request.urlopen(urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST"),
                               timeout=5)
        proc.wait(timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        pass
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.close()


@pytest.fixture
def browser(tmp_path, monkeypatch):
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not download anything
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        options.add_argument(flag)
    service = Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        try:
            driver.quit()
        except Exception:
            pass
        if service.process is not None and service.process.poll() is None:
            service.process.kill()
        _kill_leftovers(str(profile))


# ---- the page ---------------------------------------------------------------

def wait(driver, what, timeout=30, message=""):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: what(d), message)


def shot(driver, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    driver.save_screenshot(os.path.join(ARTIFACTS, name))


def cells(driver):
    return driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")


def text_of(driver, element):
    """All the text of an element, rendered or not (the notebook skips
    rendering cells out of view)."""
    return driver.execute_script("return arguments[0].textContent;", element)


def output_of(driver, index):
    return "\n".join(text_of(driver, o) for o in
                     cells(driver)[index].find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output"))


def prompt_of(driver, index):
    prompts = cells(driver)[index].find_elements(By.CSS_SELECTOR, ".jp-InputPrompt")
    return text_of(driver, prompts[0]).strip() if prompts else ""


def kernel_idle(driver):
    return bool(driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']")) \
        and not any("*" in prompt_of(driver, i) for i in range(len(cells(driver))))


def scroll_to(driver, index, block="center"):
    driver.execute_script(f"arguments[0].scrollIntoView({{block: '{block}'}});", cells(driver)[index])
    time.sleep(0.3)


def click_menu(driver, menu, item):
    """Click a menu of the menu bar, then one of its items, as a student does."""
    bar = wait(driver, lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")
                                  if e.text.strip() == menu], message=f"no menu {menu}")
    bar[0].click()
    entry = wait(driver, lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, ".lm-Menu-item")
                                    if e.is_displayed() and
                                    e.find_element(By.CSS_SELECTOR, ".lm-Menu-itemLabel").text.strip() == item],
                 message=f"no item {item} in menu {menu}")
    entry[0].click()


def editor_text(driver, index):
    lines = cells(driver)[index].find_elements(By.CSS_SELECTOR, ".jp-InputArea .cm-content .cm-line")
    return "\n".join(driver.execute_script("return arguments[0].textContent;", line) for line in lines)


def grade_ids(path):
    nb = nbformat.read(path, as_version=4)
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells], nb


# ---- tests ------------------------------------------------------------------

def test_nbgrader_lab_extension_is_enabled(tmp_path):
    proc = subprocess.run([JUPYTER, "labextension", "list"], env=student_env(tmp_path / "jupyter"),
                          capture_output=True, text=True, timeout=60)
    listing = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    line = [ln for ln in listing.splitlines() if "@jupyter/nbgrader" in ln]
    assert line and "enabled" in line[0] and "OK" in line[0], listing


def test_student_runs_the_release_and_fills_sigmoid(lab, browser):
    base, token, folder, env = lab
    driver = browser
    ids, nb = grade_ids(folder / NOTEBOOK)
    stub, test = ids.index(FUNCTION), ids.index(f"test_{FUNCTION}")
    assert "raise NotImplementedError()" in nb.cells[stub].source
    first_test = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade"))
    first_name = ids[first_test][len("test_"):] if ids[first_test].startswith("test_") else FUNCTION
    os.makedirs(ARTIFACTS, exist_ok=True)
    for old in os.listdir(ARTIFACTS):
        if old.endswith((".png", ".txt")):
            os.remove(os.path.join(ARTIFACTS, old))
    notes = []
    try:
        # 1. The student opens the notebook; the kernel starts.
        driver.get(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
        wait(driver, lambda d: len(cells(d)) == len(nb.cells), 60, "the notebook did not open")
        wait(driver, kernel_idle, 60, "the kernel did not start")
        toolbar = driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel-toolbar .validate-button")
        notes.append(f"validate button in the toolbar: {bool(toolbar)}")
        shot(driver, "01_opened.png")
        # JupyterLab's first-run question about Jupyter news covers the lower
        # right corner of the page: answer it as a student would.
        for button in driver.find_elements(By.CSS_SELECTOR, ".jp-toast-button, .Toastify__toast button"):
            if button.text.strip() == "No" and button.is_displayed():
                button.click()
                break

        # 2. Run > Run All Cells. The first failing test cell stops the run
        # (JupyterLab does not run the cells after an error).
        click_menu(driver, "Run", "Run All Cells")
        wait(driver, lambda d: output_of(d, first_test), 60, "the first test cell shows nothing")
        wait(driver, kernel_idle, 60, "the kernel stayed busy")
        failure = output_of(driver, first_test)
        notes.append(f"after Run All Cells, test cell {first_test} says:\n{failure}")
        for expected in ("ChecksFailed", f"checks of {first_name} failed", "NotImplementedError", STUB_MESSAGE):
            assert expected in failure, f"{expected!r} not in the output of the first test cell:\n{failure}"
        assert "autograder" not in failure and "Traceback" not in failure, \
            f"a failing check shows the grader's frames:\n{failure}"
        scroll_to(driver, first_test, "end")
        shot(driver, "02_run_all_stub_fails.png")

        # 3. The student clicks into the answer cell of sigmoid, selects all and
        # types a solution (the editor indents the body itself).
        scroll_to(driver, stub)
        editor = cells(driver)[stub].find_element(By.CSS_SELECTOR, ".jp-InputArea .cm-content")
        editor.click()
        wait(driver, lambda d: d.execute_script(
            "return document.activeElement && document.activeElement.classList.contains('cm-content')"),
            10, "the answer cell did not take the focus")
        keys = ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL)
        for i, line in enumerate(ANSWER):
            keys = keys.send_keys(line + ("\n" if i < len(ANSWER) - 1 else ""))
        keys.perform()
        wanted = ANSWER[0] + "".join("\n    " + line for line in ANSWER[1:])
        wait(driver, lambda d: editor_text(d, stub) == wanted, 10,
             f"the answer cell holds {editor_text(driver, stub)!r}, not {wanted!r}")
        shot(driver, "03_sigmoid_typed.png")

        # 4. Shift+Enter runs the cell and moves to its test cell; Shift+Enter again runs the test.
        before = prompt_of(driver, test)
        ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        wait(driver, lambda d: "jp-mod-active" in cells(d)[test].get_attribute("class"), 10,
             "Shift+Enter did not move to the test cell")
        wait(driver, kernel_idle, 30)
        ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        wait(driver, lambda d: prompt_of(d, test) not in (before, "[*]:") and kernel_idle(d), 30,
             "the test cell of sigmoid did not run")
        passed = output_of(driver, test)
        notes.append(f"after filling {FUNCTION}, test cell {test} says:\n{passed}")
        assert re.search(rf"\d+ visible checks? of {FUNCTION} passed", passed), passed
        assert "This is not the grade" in passed and "[FAIL]" not in passed, passed
        scroll_to(driver, test)
        shot(driver, "04_sigmoid_passes.png")

        # 5. nbgrader's Validate button (saves, then runs the whole notebook on the server).
        button = driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel-toolbar .validate-button")  # a jp-button
        assert button, "nbgrader's Validate button is not in the notebook toolbar"
        button[0].click()
        dialog = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Dialog"), 90,
                      "Validate showed no dialog")[0]
        time.sleep(0.5)
        verdict = text_of(driver, dialog)
        notes.append(f"Validate dialog:\n{verdict}")
        shot(driver, "05_validate.png")
        assert "Validation Results" in verdict, verdict
        assert f"check({FUNCTION}," not in verdict, f"Validate says the test of {FUNCTION} failed:\n{verdict}"
        if any("raise NotImplementedError()" in c.source for i, c in enumerate(nb.cells) if i != stub):
            assert "The following cell failed" in verdict and STUB_MESSAGE in verdict, verdict
    except Exception:
        try:
            shot(driver, "failure.png")
        except WebDriverException:
            pass
        raise
    finally:
        with open(os.path.join(ARTIFACTS, "page-notes.txt"), "w") as f:
            f.write("\n\n".join(notes) + "\n")


# ---- the exchange: fetch, submit and feedback from nbgrader's Assignment List ----------------

EXCHANGE_ARTIFACTS = os.path.join(REPO, "test-artifacts", "browser-exchange")


@pytest.fixture
def hub_lab(tmp_path):
    """A class on a hub: the instructor's course with 01 released to the exchange and
    `python -m autograder serve` running; a student who is a Unix user of their own, whose
    JupyterLab (their own server, their home as its root) has nbgrader's Assignment List."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from hub import Service, UnixStudents, make_hub, run_cli, unix_students_unavailable
    if unix_students_unavailable():
        pytest.skip(unix_students_unavailable())
    hub = tempfile.mkdtemp(prefix="nn-hub-")  # in /tmp: the student reaches the exchange
    try:
        root, exchange = make_hub(hub, check_owner=True)
        os.chmod(root, 0o700)
        run_cli(root, "release", ASSIGNMENT, "--exchange")
        with UnixStudents(hub, exchange, ["lab"]) as students, \
                Service(root, tmp_path / "serve.log", workers=1) as service:
            home, port, token = students.home("lab"), _free_port(), secrets.token_hex(16)
            log = open(tmp_path / "jupyter-lab.log", "wb")
            proc = subprocess.Popen([shutil.which("runuser"), "-u", students.users["lab"], "--", students.python,
                                     "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                                     f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={home}",
                                     "--ServerApp.port_retries=0"],
                                    cwd=home, env=students.env("lab"), stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            base = f"http://127.0.0.1:{port}"
            try:
                _wait_until_up(proc, base, token, log, tmp_path / "jupyter-lab.log")
                yield dict(base=base, token=token, root=root, home=home, student=students.users["lab"],
                           service=service)
            finally:
                _stop_lab(proc, base, token, log)
    finally:
        shutil.rmtree(hub, ignore_errors=True)


def assignment_row(driver, listing, status_button=None):
    """The row of ASSIGNMENT in one list of the Assignment List (released, fetched, submitted)."""
    rows = [r for r in driver.find_elements(By.CSS_SELECTOR, f"#{listing}_assignments_list .list_item")
            if ASSIGNMENT in text_of(driver, r)]
    if status_button:
        rows = [r for r in rows if any(b.text.strip() == status_button
                                       for b in r.find_elements(By.CSS_SELECTOR, ".item_status button"))]
    return rows


def click_button(driver, row, label):
    [button] = [b for b in row.find_elements(By.CSS_SELECTOR, ".item_status button") if b.text.strip() == label]
    button.click()


def test_student_submits_from_the_assignment_list_and_reads_feedback(hub_lab, browser):
    """Assignment List: Fetch, write sigmoid, Submit; `serve` grades it; Fetch Feedback, open the page,
    read the score (the gradebook's). Screenshots in test-artifacts/browser-exchange/."""
    driver, base, token = browser, hub_lab["base"], hub_lab["token"]
    os.makedirs(EXCHANGE_ARTIFACTS, exist_ok=True)
    for old in os.listdir(EXCHANGE_ARTIFACTS):
        os.remove(os.path.join(EXCHANGE_ARTIFACTS, old))
    shoot = lambda name: driver.save_screenshot(os.path.join(EXCHANGE_ARTIFACTS, name))
    notes = []
    try:
        # 1. The student opens JupyterLab, then Nbgrader > Assignment List: 01 is released
        driver.get(f"{base}/lab?token={token}")
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item"), 90, "JupyterLab did not load")
        time.sleep(2)
        for button in driver.find_elements(By.CSS_SELECTOR, ".jp-toast-button, .Toastify__toast button"):
            if button.text.strip() == "No" and button.is_displayed():  # JupyterLab's question about its news
                button.click()
        click_menu(driver, "Nbgrader", "Assignment List")
        wait(driver, lambda d: assignment_row(d, "released", "Fetch"), 60, f"{ASSIGNMENT} is not in the list")
        shoot("01_assignment_list.png")

        # 2. Fetch: it moves to the downloaded assignments, in the student's own folder
        click_button(driver, assignment_row(driver, "released", "Fetch")[0], "Fetch")
        row = wait(driver, lambda d: assignment_row(d, "fetched", "Submit"), 60, "Fetch did not fetch")[0]
        assert os.path.isfile(os.path.join(hub_lab["home"], ASSIGNMENT, NOTEBOOK))
        shoot("02_fetched.png")

        # 3. The student opens the notebook from the list and writes sigmoid; saves
        row.find_element(By.CSS_SELECTOR, ".assignment-notebooks-link").click()
        link = wait(driver, lambda d: [a for a in d.find_elements(By.CSS_SELECTOR, "#fetched_assignments_list a")
                                       if a.text.strip() == ASSIGNMENT and a.is_displayed()
                                       and "assignment-notebooks-link" not in a.get_attribute("class")],
                    30, "the fetched assignment lists no notebook")
        link[0].click()
        ids, nb = grade_ids(os.path.join(hub_lab["home"], ASSIGNMENT, NOTEBOOK))
        stub = ids.index(FUNCTION)
        wait(driver, lambda d: len(cells(d)) == len(nb.cells), 90, "the notebook did not open")
        wait(driver, kernel_idle, 90, "the kernel did not start")
        scroll_to(driver, stub)
        cells(driver)[stub].find_element(By.CSS_SELECTOR, ".jp-InputArea .cm-content").click()
        keys = ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL)
        for i, line in enumerate(ANSWER):
            keys = keys.send_keys(line + ("\n" if i < len(ANSWER) - 1 else ""))
        keys.key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
        saved = os.path.join(hub_lab["home"], ASSIGNMENT, NOTEBOOK)
        wait(driver, lambda d: "np.where(z >= 0" in grade_ids(saved)[1].cells[stub].source, 30,
             "the notebook was not saved with the answer")
        shoot("03_sigmoid_written.png")

        # 4. Back to the Assignment List: Submit
        tab = [t for t in driver.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tab") if "Assignments" in t.text]
        tab[0].click()
        click_button(driver, wait(driver, lambda d: assignment_row(d, "fetched", "Submit"), 30)[0], "Submit")
        submitted = wait(driver, lambda d: assignment_row(d, "submitted", "Fetch Feedback"), 60,
                         "Submit did not submit")[0]
        submitted_at = time.monotonic()
        shoot("04_submitted.png")
        notes.append(f"submitted row: {text_of(driver, submitted)}")

        # 5. serve grades it; the student presses Fetch Feedback until the feedback is there
        service, student = hub_lab["service"], hub_lab["student"]
        service.wait_for(rf"feedback released {student}/{ASSIGNMENT}", 600)
        notes.append(f"feedback released {time.monotonic() - submitted_at:.1f} s after Submit\n" + service.log())
        click_button(driver, assignment_row(driver, "submitted", "Fetch Feedback")[0], "Fetch Feedback")
        view = wait(driver, lambda d: [a for a in d.find_elements(By.CSS_SELECTOR, "#submitted_assignments_list a")
                                       if "view feedback" in a.text], 60, "no feedback to view after fetching")
        shoot("05_feedback_fetched.png")

        # 6. (view feedback) shows the folder; the student opens the page and reads the score
        view[0].click()
        entry = wait(driver, lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, ".jp-DirListing-item")
                                        if e.text.strip().startswith(ASSIGNMENT) and ".html" in e.text], 30,
                     "the feedback folder shows no page")
        ActionChains(driver).double_click(entry[0]).perform()
        frame = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-HTMLViewer iframe"), 30,
                     "the feedback page did not open")[0]
        driver.switch_to.frame(frame)
        page = wait(driver, lambda d: "Score" in d.find_element(By.TAG_NAME, "body").text and
                    d.find_element(By.TAG_NAME, "body").text, 30, "the feedback page shows no score")
        driver.switch_to.default_content()
        shoot("06_feedback_page.png")
        found = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", page)
        notes.append(f"feedback page: {found.group(0) if found else page[:500]}")
        from nbgrader.api import Gradebook
        with Gradebook(f"sqlite:///{hub_lab['root']}/gradebook.db") as gb:
            sub = gb.find_submission(ASSIGNMENT, student)
            expected = (sub.score, sub.max_score)
        assert found and (float(found.group(1)), float(found.group(2))) == expected, (page[:500], expected)
        assert 0 < expected[0] < expected[1]  # sigmoid's points, none of the stubs'
    except Exception:
        try:
            shoot("failure.png")
        except WebDriverException:
            pass
        raise
    finally:
        with open(os.path.join(EXCHANGE_ARTIFACTS, "page-notes.txt"), "w") as f:
            f.write("\n\n".join(notes) + "\n")
