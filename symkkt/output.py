"""The files a command writes: all checked before any work, then written all or nothing.

A command names its outputs (``--cert``, ``--out-arch``, ``--out-params``, ``--plot``, the
files of ``demo --out``) and its inputs. :func:`check_outputs` refuses, before anything is
computed or written, an output name that is empty, lies in a missing folder, names a directory,
a device, a FIFO or a socket, resolves to one of the inputs (also through a symbolic or hard
link), or names the same file as another output. :func:`write_outputs` then writes every file
to a temporary file in the target's own folder and renames them all into place; if anything
fails, the targets already replaced get their old contents back and the temporary files are
removed, so either every output is new or no target changed. A file system error names the
file and what is wrong (:class:`~symkkt.errors.UsageError`, exit code 2 on the command line).

This module imports only the standard library (``symkkt --help`` stays fast).

Examples
--------
>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> a, b = os.path.join(folder, "a.json"), os.path.join(folder, "b.json")
>>> check_outputs([("--cert", a), ("--out-arch", b)])
>>> [os.path.basename(p) for p in write_outputs({a: "1\\n", b: "2\\n"})]
['a.json', 'b.json']
>>> open(a).read(), open(b).read()
('1\\n', '2\\n')
>>> try:
...     check_outputs([("--cert", a), ("--out-arch", a)])
... except Exception as err:
...     print(err.message)
is the same file as --cert
>>> try:
...     check_outputs([("--cert", "")])
... except Exception as err:
...     print(err.line())
<command line>: --cert: the file name is empty
>>> import shutil; shutil.rmtree(folder)
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile

from .errors import UsageError

__all__ = ["check_outputs", "check_inputs", "input_problem", "check_folder", "make_folder", "write_outputs",
           "os_error"]

CMD = "<command line>"


def os_error(err, path, doing):
    """A :class:`UsageError` for an :class:`OSError` met while ``doing`` something with ``path``.

    Examples
    --------
    >>> os_error(PermissionError(13, "Permission denied"), "out.json", "cannot write the file").line()
    'out.json: cannot write the file: Permission denied'
    """
    reason = err.strerror or str(err) or type(err).__name__
    return UsageError(f"{doing}: {reason}", str(path))


def _stat(path, follow=True):
    """``os.stat`` or ``None`` if nothing is there; other file system errors as UsageError."""
    try:
        return os.stat(path) if follow else os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        raise os_error(err, path, "cannot access the file") from None
    except ValueError:            # an embedded NUL byte
        raise UsageError("not a valid file name", repr(path)) from None


def _kind(st):
    if stat.S_ISDIR(st.st_mode):
        return "is a directory"
    if stat.S_ISFIFO(st.st_mode):
        return "is a FIFO (named pipe)"
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        return "is a device"
    if stat.S_ISSOCK(st.st_mode):
        return "is a socket"
    return "is not a regular file"


def input_problem(path):
    """What makes ``path`` unusable as an input file, or None (a missing file is left to the reader).

    Examples
    --------
    >>> input_problem(os.devnull)
    'is a device; only regular files are read'
    """
    st = _stat(path)
    if st is None or stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISDIR(st.st_mode):
        return "is a directory, not a file"
    return f"{_kind(st)}; only regular files are read"


def check_inputs(paths):
    """Refuse input files that cannot be used, before anything is read (UsageError, exit 2).

    ``paths`` holds ``(file, role)`` pairs; ``file`` None means not given. A missing file is
    left to the reader (``file not found``); an input behind an unsearchable folder, a
    directory, a device, a FIFO (reading it could wait for ever) or a socket is refused here.
    """
    for path, role in paths:
        if path is None:
            continue
        if os.fspath(path) == "":
            raise UsageError("the file name is empty", CMD, role)
        problem = input_problem(path)
        if problem is not None:
            raise UsageError(problem, str(path))


def check_outputs(outputs, inputs=(), suffixes=None):
    """Refuse unusable output files before any work; :class:`UsageError` (exit 2) on the first.

    Parameters
    ----------
    outputs : iterable of (flag, path)
        ``path`` None means the flag was not given.
    inputs : iterable of str
        Files the command reads: no output may resolve to one of them.
    suffixes : dict, optional
        flag -> allowed file name endings (lower case, with the dot).
    """
    suffixes = suffixes or {}
    seen = {}                   # identity of an output -> its flag
    guarded = {}
    for path in inputs:
        if path:
            for key in _identities(path):
                guarded[key] = path
    for flag, path in outputs:
        if path is None:
            continue
        path = os.fspath(path)
        if path == "":
            raise UsageError("the file name is empty", CMD, flag)
        _check_one(path, flag, suffixes.get(flag))
        for key in _identities(path):
            if key in guarded:
                raise UsageError(f"is the input file {guarded[key]}; refusing to overwrite an input",
                                 path, flag)
            if key in seen:
                raise UsageError(f"is the same file as {seen[key]}", path, flag)
        for key in _identities(path):
            seen[key] = flag


def _identities(path):
    """What makes two names the same file: the resolved name and, if it exists, (device, inode)."""
    keys = [("name", os.path.normcase(os.path.realpath(path)))]
    st = _stat(path)
    if st is not None:
        keys.append(("inode", st.st_dev, st.st_ino))
    return keys


def _check_one(path, flag, allowed):
    real = os.path.realpath(path)
    folder = os.path.dirname(real)
    st_folder = _stat(folder)
    if st_folder is None or not stat.S_ISDIR(st_folder.st_mode):
        raise UsageError("folder does not exist", path, flag)
    st = _stat(real)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{_kind(st)}; refusing to replace it", path, flag)
    if allowed and os.path.splitext(path)[1].lower() not in allowed:
        raise UsageError(f"file name must end in {', '.join(allowed)}", path, flag)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError("cannot write into the folder: Permission denied", path, flag)


def check_folder(folder, flag):
    """Refuse an output folder that is empty, or exists and is not a directory (exit 2)."""
    if folder is None or os.fspath(folder) == "":
        raise UsageError("the folder name is empty", CMD, flag)
    st = _stat(folder)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{_kind(st) if not stat.S_ISREG(st.st_mode) else 'is a file'}, not a folder",
                         str(folder), flag)


def make_folder(folder):
    """Create ``folder`` (and its parents) if missing; a file system error as UsageError."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise os_error(err, folder, "cannot create the folder") from None


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_outputs(files):
    """Write several files all or nothing; the list of paths written.

    Parameters
    ----------
    files : dict
        path -> content: ``str`` (UTF-8), ``bytes``, or a callable ``produce(tmp_path)`` that
        writes the file at ``tmp_path`` itself (which has the target's file name ending).

    Every content goes to a temporary file in the target's folder first; only when all are
    written are they renamed into place. If a rename fails, the targets already replaced get
    their old contents back (kept as hard links, or copies, made before the first rename) and
    targets that did not exist are removed. Symbolic links are followed: the file they point to
    is replaced, the link stays.

    Raises
    ------
    UsageError
        A file system error, naming the file (nothing changed on disk).
    """
    jobs = []               # (target as given, real target, temp, backup or None)
    try:
        for path, content in files.items():
            path = os.fspath(path)
            real = os.path.realpath(path)
            try:
                tmp = _write_temp(real, content, os.path.splitext(path)[1])
            except OSError as err:
                raise os_error(err, path, "cannot write the file") from None
            jobs.append([path, real, tmp, None])
        for job in jobs:
            path, real = job[0], job[1]
            if os.path.lexists(real):
                try:
                    job[3] = _backup(real)
                except OSError as err:
                    raise os_error(err, path, "cannot keep the old file while replacing it") from None
        done = []
        try:
            for job in jobs:
                try:
                    os.replace(job[2], job[1])
                except OSError as err:
                    raise os_error(err, job[0], "cannot write the file") from None
                done.append(job)
        except BaseException:
            _restore(done)
            raise
    except BaseException:
        for job in jobs:
            for leftover in job[2:]:
                _remove(leftover)
        raise
    for job in jobs:
        _remove(job[3])
    return [job[0] for job in jobs]


def _write_temp(real, content, suffix):
    folder = os.path.dirname(real)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".symkkt-", suffix=suffix)
    try:
        if callable(content):
            os.close(fd)
            fd = None
            content(tmp)
        else:
            data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            with os.fdopen(fd, "wb") as fh:
                fd = None
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        st = _stat(real)        # the replaced file's permissions, or the usual ones for a new file
        os.chmod(tmp, stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask())
    except BaseException:
        if fd is not None:
            os.close(fd)
        _remove(tmp)
        raise
    return tmp


def _backup(real):
    """A second name for the current contents of ``real`` (a hard link, else a copy)."""
    fd, name = tempfile.mkstemp(dir=os.path.dirname(real), prefix=".symkkt-old-")
    os.close(fd)
    os.unlink(name)
    try:
        os.link(real, name)
    except OSError:
        shutil.copy2(real, name)
    return name


def _restore(done):
    for job in reversed(done):
        _path, real, _tmp, backup = job
        try:
            if backup is not None:
                os.replace(backup, real)
            else:
                os.unlink(real)
        except OSError:         # pragma: no cover - best effort while already failing
            job[3] = None       # keep the old contents under their temporary name


def _remove(name):
    if name is not None:
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
        except OSError:         # pragma: no cover - best effort
            pass
