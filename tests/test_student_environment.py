"""What students install (the course's wheel) has the checking vocabulary and
the data sets, and no reference solutions; the grading environment (this
repository) has both."""
import os
import subprocess
import sys
import zipfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           REPO, "-w", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    [path] = out.glob("nn_course-*.whl")
    return path


@pytest.fixture(scope="module")
def student_site(wheel, tmp_path_factory):
    site = tmp_path_factory.mktemp("student-site")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return site


def run_as_student(site, code, tmp_path):
    """Python with the student's packages: the wheel's files, numpy and friends
    from this environment, and no view of the repository (-P: the working
    folder is not on sys.path; the editable install of this repository is
    shadowed by the wheel's autograder)."""
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run([sys.executable, "-P", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)


def test_wheel_holds_the_vocabulary_and_no_solutions(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "autograder/checks.py" in names and "autograder/datasets.py" in names
    assert not [n for n in names if n.startswith(("solutions/", "source/", "tests/"))], names


def test_student_environment_cannot_import_the_reference(student_site, tmp_path):
    proc = run_as_student(student_site, "import autograder.checks, autograder; print(autograder.__file__)\n"
                                        "import solutions", tmp_path)
    assert str(student_site) in proc.stdout, proc.stdout + proc.stderr
    assert "ModuleNotFoundError: No module named 'solutions'" in proc.stderr


def test_student_environment_loads_the_real_data_sets(student_site, tmp_path):
    proc = run_as_student(student_site, "from autograder import datasets\n"
                                        "X, Y, Xt, Yt, names = datasets.breast_cancer()\n"
                                        "D, y, Dt, yt = datasets.digits()\n"
                                        "print(X.shape[0], X.shape[1] + Xt.shape[1], sorted(set(Y.ravel().tolist())))\n"
                                        "print(D.shape[0], D.shape[1] + Dt.shape[1], sorted(set(y.tolist())))", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["30 569 [0, 1]", "64 1797 [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"]


def test_data_sets_are_scikit_learns_own_without_importing_it(student_site, tmp_path):
    """The course reads scikit-learn's data files with numpy (an import of scikit-learn costs every kernel
    of 02 and 04 more than a second): the same numbers, labels and names as scikit-learn's loaders give."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer, load_digits
    proc = run_as_student(student_site, "import sys, numpy as np\n"
                                        "from autograder import datasets\n"
                                        "X, Y, _, _, names = datasets.breast_cancer(test_fraction=0.0)\n"
                                        "D, y, _, _ = datasets.digits(test_fraction=0.0)\n"
                                        "np.savez('sets.npz', X=X, Y=Y, D=D, y=y, names=np.array(names))\n"
                                        "print('sklearn' in sys.modules)", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False"]
    sets = np.load(tmp_path / "sets.npz")
    cancer, digits = load_breast_cancer(), load_digits()
    order = np.random.default_rng(0).permutation(len(cancer.target))  # test_fraction 0: every sample, shuffled
    raw = cancer.data.T[:, order]
    assert np.array_equal(sets["X"], (raw - raw.mean(axis=1, keepdims=True)) / raw.std(axis=1, keepdims=True))
    assert sets["Y"].dtype == np.int64 and np.array_equal(sets["Y"], cancer.target[order].reshape(1, -1))
    assert sets["names"].tolist() == list(cancer.feature_names)
    order = np.random.default_rng(0).permutation(len(digits.target))
    assert np.array_equal(sets["D"], digits.data.T[:, order] / 16.0)
    assert sets["y"].dtype == np.int64 and np.array_equal(sets["y"], digits.target[order])


def test_grading_environment_imports_the_reference():
    proc = subprocess.run([sys.executable, "-c", "import solutions.backprop, solutions.softmax"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
