"""Where the notebooks to grade are, and whose they are (the parent, before any worker runs).

    subs = find_submissions(["examples/submissions"])   # [Submission], UsageError naming a bad PATH
    subs[0].folder("build/grades")                      # build/grades/alice/a1_naive

A submission is one notebook; its student comes from the folder layout (FINDING: nbgrader's
submitted/<student>/<assignment>/, any <student>/<assignment>/ tree, a flat folder of notebooks),
never from inside a notebook, and a student's folder yields only that student's one notebook;
its assignment is recognised from the notebook itself (the backend's load_submission: the
notebook is only parsed, no student code runs). Results go to OUT/<student_folder(student)>/
<assignment>/: an injective, filesystem-safe encoding of the name.
"""
import hashlib
import string
from dataclasses import dataclass, field
from pathlib import Path

from autograder import backend as backends
from autograder.contract import ASSIGNMENTS
from autograder.extract import MAX_NOTEBOOK_BYTES

UNRECOGNISED = "unrecognised"    # assignment folder of a notebook no assignment matched


class UsageError(Exception):
    """A PATH the CLI cannot grade; the message names it."""


# --------------------------------------------------------------------------- output folders
_SAFE_CHARS = frozenset(string.ascii_letters + string.digits + "_-.")
# Names of the grader's own files at OUT's top level (grades.csv, grading.log, the class report's
# files): a student folder never takes one, whatever the case of its letters.
RESERVED_NAMES = frozenset({"grades.csv", "grading.log", "class_report.html",
                            "class_gradebook.csv"})
MAX_FOLDER_CHARS = 120
_CUT_CHARS = 80


def student_folder(student):
    """The name of `student`'s folder under OUT: filesystem-safe and injective (two different
    names never share a folder).

    The name's UTF-8 bytes (lone surrogates as their 3-byte forms) are kept where they are
    ASCII letters, digits, `_`, `-` or `.` and percent-encoded (`%2F`) otherwise, `%` included;
    a leading `.` or `-`, a name of the grader's own files (RESERVED_NAMES) and the empty name
    get their first character encoded too. A result longer than MAX_FOLDER_CHARS is cut and
    ends with `%%` and the SHA-256 of the name (`%%` appears in no other encoded name)."""
    data = student.encode("utf-8", "surrogatepass")
    name = "".join(chr(b) if chr(b) in _SAFE_CHARS else f"%{b:02X}" for b in data)
    if not name:
        return "%"
    if name.startswith((".", "-")) or name.lower() in RESERVED_NAMES:
        name = f"%{ord(name[0]):02X}{name[1:]}"
    if len(name) > MAX_FOLDER_CHARS:
        name = f"{name[:_CUT_CHARS]}%%{hashlib.sha256(data).hexdigest()[:32]}"
    return name


@dataclass
class Submission:
    """One notebook to grade and where its results go: OUT/<student folder>/<assignment>/.

    `problem`: why it cannot be graded at all (set before any worker starts); `problems`: notes
    for the student about notebooks that were not graded (nested deeper, or beside the one
    chosen); `sha256`: of the notebook's bytes as the parent read them."""
    notebook: Path
    student: str
    assignment: str
    problem: str = ""
    problems: list = field(default_factory=list)
    sha256: str = ""

    def folder(self, out):
        return Path(out) / student_folder(self.student) / self.assignment


# --------------------------------------------------------------------------- finding submissions
FINDING = """\
How PATHs become submissions (student names come from folder and file names, never from a
notebook; each student folder speaks only for its own student):

  submitted/ or any other folder (a class folder): each notebook directly in it is one
    submission, its student the file name without .ipynb; each subfolder <student>/ belongs to
    that student: each <student>/<assignment>/ is a submission folder, and so is <student>/
    itself when notebooks lie directly in it.
  submitted/<student>/ (or a folder holding only assignment-id folders): one student's folder.
  submitted/<student>/<assignment>/ (or a folder named by an assignment id): a submission folder.
  a notebook: one submission; student from submitted/<student>/<assignment>/ or
    <student>/<assignment id>/ around it, else the file name.

From a submission folder exactly one notebook is graded: the one named <folder>.ipynb, else the
only one there; several others make that student's submission an error. Notebooks in its
subfolders and symbolic links to notebooks are never graded nor given to anyone: they are
listed in that submission's problems. Names starting with "." are skipped. Results go to OUT/<student>/<assignment>/ with the student
name percent-encoded wherever it is not plain ASCII letters, digits, "_", "-", "." (and at a
leading "." or "-", or a name of the grader's own files such as grades.csv): "Zoë" -> "Zo%C3%AB",
"grades.csv" -> "%67rades.csv". The true name stays in results.json and grades.csv."""


@dataclass
class Place:
    """A folder (or a single notebook file) that speaks for one student: `notebooks` directly in
    it are the candidates, `nested` ones deeper down are ignored and reported."""
    student: str
    folder: Path = None              # None for a notebook given or found on its own
    notebooks: list = field(default_factory=list)
    nested: list = field(default_factory=list)
    links: list = field(default_factory=list)    # symbolic links to notebooks: never graded


def _file_student(notebook):
    """The student of a notebook given as a PATH, from the folders around it."""
    absolute = notebook.resolve()
    if len(absolute.parents) >= 3 and absolute.parents[2].name == "submitted":
        return absolute.parents[1].name                   # submitted/<student>/<assignment>/nb
    if absolute.parent.name in ASSIGNMENTS:
        return absolute.parents[1].name                   # <student>/<assignment id>/nb
    return notebook.stem if notebook.stem.strip(".") else notebook.name   # "..ipynb": no "." dir


def _notebooks_under(folder):
    """Relative paths of the notebooks under `folder`, sorted; no part starting with "."."""
    return sorted(p.relative_to(folder) for p in folder.rglob("*.ipynb")
                  if p.is_file() and not any(part.startswith(".")
                                             for part in p.relative_to(folder).parts))


def _folder_kind(folder, notebooks):
    """"submission", "student" or "class": what a folder PATH is (see FINDING)."""
    absolute = folder.resolve()
    if absolute.name == "submitted":
        return "class"
    if absolute.name in ASSIGNMENTS or (len(absolute.parents) >= 2
                                        and absolute.parents[1].name == "submitted"):
        return "submission"
    if absolute.parent.name == "submitted":
        return "student"
    if notebooks and all(len(n.parts) > 1 and n.parts[0] in ASSIGNMENTS for n in notebooks):
        return "student"
    return "class"


def _where(kind, folder, parts):
    """(student, folder of the Place, is a candidate) of a notebook at folder/parts, or
    (student, None, True) for a notebook that is a Place of its own."""
    if kind == "submission":
        return folder.resolve().parent.name, folder, len(parts) == 1
    if kind == "student":
        return folder.resolve().name, folder.joinpath(*parts[:1 if len(parts) > 1 else 0]), \
            len(parts) <= 2
    if len(parts) == 1:
        return _file_student(folder / parts[0]), None, True
    return parts[0], folder.joinpath(*parts[:2 if len(parts) > 2 else 1]), len(parts) <= 3


def _folder_places(folder):
    notebooks = _notebooks_under(folder)
    if not notebooks:
        raise UsageError(f"{folder}: folder holds no notebook (*.ipynb)")
    kind = _folder_kind(folder, notebooks)
    places, singles = {}, []
    for parts in (n.parts for n in notebooks):
        student, home, candidate = _where(kind, folder, parts)
        if home is None:
            singles.append(Place(student, None, [folder.joinpath(*parts)]))
            continue
        place = places.setdefault(home, Place(student, home))
        path = folder.joinpath(*parts)
        (place.links if path.is_symlink() else place.notebooks if candidate else place.nested).append(path)
    return singles + list(places.values())


def find_places(paths):
    """The Places under the CLI's PATHs, in order (see FINDING); UsageError naming a bad PATH."""
    found = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise UsageError(f"{given}: no such file or folder")
        if path.is_file():
            if path.suffix != ".ipynb":
                raise UsageError(f"{given}: not a notebook (.ipynb) nor a folder of notebooks")
            found.append(Place(_file_student(path), None, [path]))
        else:
            found += _folder_places(path)
    return found


def _relative(path, folder):
    return str(path.relative_to(folder)) if folder is not None else path.name


def _choose(place):
    """(the notebook to grade or None, notes about the ones not graded, problem or "")."""
    folder, candidates = place.folder, place.notebooks
    notes = [f"not graded: {_relative(n, folder)} is in a subfolder of the submission folder"
             for n in place.nested]
    notes += [f"not graded: {_relative(n, folder)} is a symbolic link" for n in place.links]
    if len(candidates) == 1:
        return candidates[0], notes, ""
    named = folder / f"{folder.name}.ipynb" if folder is not None else None
    if named in candidates:
        notes += [f"not graded: {_relative(n, folder)} (only {named.name} is)"
                  for n in candidates if n != named]
        return named, notes, ""
    if not candidates:
        return None, notes, (f"no notebook directly in the submission folder {folder.name}; "
                             "notebooks in its subfolders and symbolic links are not graded")
    names = ", ".join(_relative(n, folder) for n in candidates)
    return None, notes, (f"{len(candidates)} notebooks in the submission folder {folder.name} "
                         f"({names}); keep exactly one, or name the one to grade "
                         f"{folder.name}.ipynb")


def _recognise(notebook, backend):
    """(assignment, problem, sha256) of a notebook, read by the parent (no student code runs)."""
    folder = notebook.parent.name
    fallback = folder if folder in ASSIGNMENTS else UNRECOGNISED
    try:
        with open(notebook, "rb") as fh:
            data = fh.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as e:
        return fallback, f"{notebook.name} cannot be read: {e}", ""
    digest = hashlib.sha256(data).hexdigest()
    try:
        return backend.load_submission(notebook, data=data).assignment, "", digest
    except backend.SubmissionError as e:
        return fallback, str(e), digest
    except Exception as e:      # whatever a notebook's JSON does, it is that notebook's problem
        return fallback, f"{notebook.name} could not be read ({type(e).__name__}: {e})", digest


def _submission(place, backend):
    notebook, notes, problem = _choose(place)
    if notebook is None:
        assignment = place.folder.name if place.folder.name in ASSIGNMENTS else UNRECOGNISED
        return Submission(place.folder, place.student, assignment, problem, notes)
    assignment, problem, digest = _recognise(notebook, backend)
    return Submission(notebook, place.student, assignment, problem, notes, digest)


def find_submissions(paths, backend=None):
    """The Submissions under the CLI's PATHs (find_places, then one notebook chosen per Place),
    each with its recognised assignment and the SHA-256 of its bytes.

    The parent only parses the notebooks (backend.load_submission, no student code runs). A
    notebook that cannot be loaded, or a Place with no notebook to choose, keeps the assignment
    its folder names (or UNRECOGNISED) and a `problem`; two submissions of one student for one
    assignment become one submission marked with a problem naming both, since neither can be
    preferred silently.
    """
    places = find_places(paths)
    backend = backend or backends.caged()
    by_key = {}
    for place in places:
        sub = _submission(place, backend)
        by_key.setdefault((sub.student, sub.assignment), []).append(sub)
    for (student, assignment), group in by_key.items():
        if len(group) > 1:
            names = ", ".join(str(s.notebook) for s in group)
            group[0].problem = (f"{len(group)} notebooks for student {student}, assignment "
                                f"{assignment}: {names}; keep exactly one")
    return [group[0] for group in by_key.values()]
