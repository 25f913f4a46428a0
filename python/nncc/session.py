"""Sessions: TF1's sess.run(fetches, feed_dict) over the runtime.

A session of a Graph compiles a signature (feeds, fetches, training step)
for each kind of run it is asked for, the first time it is asked, and keeps
the variables between runs; nncc.load() opens a compiled .nnx with the
runtime alone (no compiler is loaded).
"""
import threading

from . import _runtime
from .errors import InvalidArgument


def _flatten(fetches, leaves):
    """The leaves of a fetch structure (a leaf, list, tuple or dict) and a rebuild function."""
    if isinstance(fetches, (list, tuple)):
        parts = [_flatten(f, leaves) for f in fetches]
        kind = type(fetches)
        return lambda values: kind(p(values) for p in parts)
    if isinstance(fetches, dict):
        parts = {k: _flatten(v, leaves) for k, v in fetches.items()}
        return lambda values: {k: p(values) for k, p in parts.items()}
    leaves.append(fetches)
    index = len(leaves) - 1
    return lambda values: values[index]


def _structure(fetches):
    """A fetch structure as a dict key: the leaves themselves (kept alive by it), lists,
    tuples and dicts as tagged tuples."""
    if isinstance(fetches, list):
        return ("list",) + tuple(_structure(f) for f in fetches)
    if isinstance(fetches, tuple):
        return ("tuple",) + tuple(_structure(f) for f in fetches)
    if isinstance(fetches, dict):
        return ("dict",) + tuple((k, _structure(v)) for k, v in fetches.items())
    hash(fetches)
    return fetches


def _tensor_name(name):
    # TF's "z:0" is nncc's "z"; "split:1" stays (a second result).
    return name[:-2] if name.endswith(":0") else name


class Session:
    """Runs a graph (compiled on demand) or a loaded executable on a device."""

    def __init__(self, graph=None, device="cpu", check_numerics=False, *, _executable=None):
        self._device = _runtime.Device.named(device)
        self._check_numerics = check_numerics
        self._graph = None
        self._session = None
        self._signatures = {}  # key -> signature dict
        self._order = []
        self._needed = {}
        self._plans = {}
        self._lock = threading.RLock()  # signatures and recompiles, one thread at a time
        self._restored = {}  # checkpoint values for variables not compiled yet
        if _executable is not None:
            self._session = _runtime.Session(_executable, self._device)
            self._session.initialize()
        else:
            from .graph import get_default_graph
            self._graph = graph if graph is not None else get_default_graph()

    # -- TF1's context manager ----------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._session = None

    @property
    def graph(self):
        return self._graph

    @property
    def device(self):
        return self._device.name

    @property
    def executable(self):
        """The runtime's executable of what has been compiled so far (None before)."""
        return None if self._session is None else self._session.executable

    @property
    def signatures(self):
        """The signatures compiled so far, as the executable lists them."""
        return [] if self._session is None else self._session.executable.signatures

    # -- running ------------------------------------------------------------
    def run(self, fetches, feed_dict=None, signature=None):
        """Values of `fetches` (a tensor, an op, a name, or lists and dicts of them) as
        NumPy arrays, with the placeholders fed from `feed_dict` ({tensor or name: value})."""
        feed_dict = feed_dict or {}
        if self._graph is not None:
            # A run like an earlier one (the same fetches, the same feed keys, the same
            # graph) takes its plan: the structure, the checks and the signature.
            try:
                key = (_structure(fetches), tuple(feed_dict), self._graph.version)
                cached = self._plans.get(key)
            except TypeError:  # something unhashable: planned below, not kept
                key = cached = None
            if cached is not None:
                plan, rebuild, names = cached
                return self._execute(*plan, rebuild, dict(zip(names, feed_dict.values())))
        leaves = []
        rebuild = _flatten(fetches, leaves) if fetches is not None else None
        feeds = {}
        for k, value in feed_dict.items():
            name = _tensor_name(k if isinstance(k, str) else k.name)
            if not isinstance(k, str) and getattr(k, "kind", "placeholder") != "placeholder":
                raise InvalidArgument(f"feed_dict: '{name}' is not a placeholder (only "
                                      "placeholders can be fed)")
            feeds[name] = value
        if self._graph is None:
            return self._run_loaded(leaves, rebuild, feeds, signature)
        plan = self._plan(leaves, feeds)
        if key is not None:
            self._plans[key] = plan, rebuild, list(feeds)
        return self._execute(*plan, rebuild, feeds)

    def _plan(self, leaves, feeds):
        """What a run of `leaves` with `feeds` (names) does: (run the initializer?, the
        signature or None, its fetches, for each leaf its fetch or None); compiles."""
        from .graph import Operation, Tensor
        names, picks, train, init = [], [], None, False
        for leaf in leaves:
            if isinstance(leaf, Operation):
                picks.append(None)
                if leaf.kind == "init":
                    init = True
                elif train is None or train is leaf:
                    train = leaf
                else:
                    raise InvalidArgument("sess.run: one training step per run, got "
                                          f"'{train.name}' and '{leaf.name}'")
                continue
            if isinstance(leaf, Tensor):
                if leaf.graph is not self._graph:
                    raise InvalidArgument(f"sess.run: '{leaf.name}' is of another graph")
                name = leaf.name
            elif isinstance(leaf, str):
                name = _tensor_name(leaf)
            else:
                raise InvalidArgument(f"sess.run: cannot fetch {leaf!r} (a tensor, an "
                                      "operation or a name)")
            names.append(name)
            picks.append(name)
        fetch_names = list(dict.fromkeys(names))
        if not fetch_names and train is None:
            return init, None, fetch_names, picks
        wanted = tuple(fetch_names + ([train.loss.name] if train is not None else []))
        needed, placeholders = self._needed.get((self._graph.version, wanted), (None, None))
        if needed is None:  # the graph's walk, once per graph version and fetches
            needed = self._graph._fe.placeholders_needed(list(wanted))
            placeholders = set(self._graph._fe.placeholders)
            self._needed[(self._graph.version, wanted)] = needed, placeholders
        missing = [p for p in needed if p not in feeds]
        if missing:
            raise InvalidArgument("You must feed a value for placeholder " +
                                  ", ".join(f"'{p}'" for p in missing))
        unknown = [f for f in feeds if f not in placeholders]
        if unknown:
            raise InvalidArgument("feed_dict: no placeholder " +
                                  ", ".join(f"'{f}'" for f in unknown) + " in the graph")
        with self._lock:
            sig = self._signature(needed, fetch_names, train)
        missing = [p for p in sig["feeds"] if p not in feeds]
        if missing:
            raise InvalidArgument(
                f"'{train.name}' was compiled with fetches that need placeholder " +
                ", ".join(f"'{p}'" for p in missing) + ": feed it too")
        return init, sig, fetch_names, picks

    def _execute(self, init, sig, fetch_names, picks, rebuild, feeds):
        if init:
            self._initialize()
        out = {}
        if sig is not None:
            out = self._session.run(sig["name"], {p: feeds[p] for p in sig["feeds"]},
                                    fetch_names)
        results = [None if name is None else out[name] for name in picks]
        return None if rebuild is None else rebuild(results)

    def make_callable(self, fetches, feed_list=()):
        """A function of the values of `feed_list` (placeholders, in order) that runs
        `fetches` as run() does, planned and compiled once (TF1's fast path)."""
        if self._graph is None:
            raise InvalidArgument("make_callable needs a graph session")
        leaves = []
        rebuild = _flatten(fetches, leaves)
        names = [_tensor_name(f if isinstance(f, str) else f.name) for f in feed_list]
        plan = self._plan(leaves, dict.fromkeys(names))
        init, sig, fetch_names, picks = plan
        run = self._session.run if sig is not None else None
        fed = [(p, names.index(p)) for p in sig["feeds"]] if sig is not None else []

        def call(*values):
            if len(values) != len(names):
                raise InvalidArgument(f"expected {len(names)} feeds ({', '.join(names)}), "
                                      f"got {len(values)}")
            if init or run is None or self._session.run != run:
                return self._execute(init, sig, fetch_names, picks, rebuild,
                                     dict(zip(names, values)))
            out = run(sig["name"], {p: values[i] for p, i in fed}, fetch_names)
            return rebuild([None if name is None else out[name] for name in picks])
        return call

    def _signature(self, feeds, fetches, train):
        """The signature for a run: one per set of feeds and fetches, and one per training
        step (named after it, fetching all that was asked with it), so that its optimizer
        state ("GradientDescent/iterations", slots) is one and keeps its name."""
        if train is None:
            key = (tuple(feeds), tuple(fetches))
            if key in self._signatures:
                return self._signatures[key]
            sig = {"name": self._graph._fe.unique_name("run"), "feeds": list(feeds),
                   "fetches": list(fetches)}
            self._compile(self._order + [sig])
            self._order.append(sig)
            self._signatures[key] = sig
            return sig
        key = ("train", id(train))
        old = self._signatures.get(key)
        if old and set(fetches) <= set(old["fetches"]) and set(feeds) <= set(old["feeds"]):
            return old
        union = list(dict.fromkeys((old["fetches"] if old else []) + list(fetches)))
        sig = {"name": train.name, "fetches": union, "loss": train.loss.name,
               "optimizer": train.optimizer,
               "feeds": self._graph._fe.placeholders_needed(union + [train.loss.name])}
        order = [sig if s is old else s for s in self._order] if old else self._order + [sig]
        self._compile(order)
        self._order = order
        self._signatures[key] = sig
        return sig

    def _compile(self, signatures):
        """Compiles every signature so far into one executable; the variables carry over."""
        from . import _compiler
        self._plans.clear()  # plans name the signatures of the executable they were made on
        exe = _compiler.compile(self._graph._fe, signatures, self._device.target,
                                self._check_numerics)
        session = _runtime.Session(exe, self._device)
        session.initialize()
        held = self._session.executable.variables if self._session is not None else []
        for name in exe.variables:
            if name in held:
                session.set_variable(name, self._session.variable(name))
            elif name in self._restored:
                session.set_variable(name, self._restored.pop(name))
        self._session = session

    def _initialize(self):
        if self._session is not None:
            self._session.initialize()

    def _run_loaded(self, leaves, rebuild, feeds, signature):
        names = []
        for leaf in leaves:
            if not isinstance(leaf, str):
                raise InvalidArgument(f"a loaded executable fetches by name, got {leaf!r}")
            names.append(_tensor_name(leaf))
        sig = self._pick(signature, names, feeds)
        out = self._session.run(sig["name"], feeds, list(dict.fromkeys(names)))
        if rebuild is None:
            return out
        return rebuild([out[n] for n in names])

    def _pick(self, signature, names, feeds):
        sigs = self._session.executable.signatures
        if signature is not None:
            for s in sigs:
                if s["name"] == signature:
                    return s
            raise InvalidArgument(f"no signature '{signature}' (there are " +
                                  ", ".join(s["name"] for s in sigs) + ")")
        fits = [s for s in sigs
                if all(n in [f["name"] for f in s["fetches"]] for n in names)
                and all(f["name"] in feeds for f in s["feeds"])]
        if names and len(fits) > 1:
            fits = [s for s in fits if not s["updates"]] or fits
        if len(fits) == 1 or (fits and names):
            return fits[0]
        if not fits:
            raise InvalidArgument(
                f"no signature fetches {names} from the feeds {sorted(feeds)}; the "
                "signatures: " + "; ".join(
                    f"{s['name']}({', '.join(f['name'] for f in s['feeds'])}) -> "
                    f"{', '.join(f['name'] for f in s['fetches'])}" for s in sigs))
        raise InvalidArgument("several signatures fit (" + ", ".join(s["name"] for s in fits) +
                              "): name one with signature=")

    # -- variables and checkpoints -----------------------------------------
    def variable(self, name):
        """A copy of a variable's current value."""
        if self._session is None:
            raise InvalidArgument("nothing has run yet: no variables are held")
        return self._session.variable(name)

    def set_variable(self, name, value):
        if self._session is None:
            raise InvalidArgument("nothing has run yet: no variables are held")
        self._session.set_variable(name, value)

    def save(self, path):
        """Writes every variable to a checkpoint (atomically)."""
        if self._session is None:
            raise InvalidArgument("nothing has run yet: no variables to save")
        self._session.save(str(path))

    def restore(self, path):
        """Reads a checkpoint back. A loaded executable's must hold exactly its variables;
        a graph's must hold every variable of the graph (optimizer state of training
        steps not run yet is kept for them). On any mismatch nothing changes."""
        if self._graph is None:
            self._session.restore(str(path))
            return
        with self._lock:
            self._restore(path)

    def _restore(self, path):
        values = _runtime.read_checkpoint(str(path))
        model = set(self._graph._fe.variables)
        compiled = set(self._session.executable.variables) if self._session else set()
        problems = [f"variable '{v}' is missing" for v in sorted(model - set(values))]
        problems += [f"variable '{v}' is not in the model" for v in sorted(values)
                     if v not in model and v not in compiled and "/" not in v]
        if self._session is not None:
            for name in sorted(compiled & set(values)):
                now, new = self._session.variable(name), values[name]
                if now.dtype != new.dtype or now.shape != new.shape:
                    problems.append(f"variable '{name}' is {new.dtype}{list(new.shape)} in the "
                                    f"checkpoint but {now.dtype}{list(now.shape)} in the model")
        if problems:
            raise InvalidArgument(f"{path}: the checkpoint does not match the graph:\n  " +
                                  "\n  ".join(problems))
        for name, value in values.items():
            if name in compiled:
                self._session.set_variable(name, value)
            else:
                self._restored[name] = value

    def export(self, path):
        """Writes what has been compiled as an .nnx file (nncc.load reads it)."""
        from . import _compiler
        if self._session is None:
            raise InvalidArgument("nothing has been compiled yet")
        _compiler.write_executable(self._session.executable, str(path))


def _errors():
    from . import errors
    return errors


def load(path, device="cpu"):
    """A session of a compiled .nnx (made by `nncc compile` or Session.export), run by
    the runtime alone: sess.run(names, feed_dict={"x": array}, signature=None)."""
    return Session(device=device, _executable=_runtime.Executable.load(str(path)))
