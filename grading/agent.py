"""The kernel side of a graded test: run the student's code on the test's inputs and hand back plain data.

At autograde time no test cell runs in the student's kernel. The test runs in the
grading process (:mod:`grading.remote`), and whenever it touches a name the
student defined, it sends one request to the student's kernel. This file's source
is sent into that kernel as code and executed there, in a namespace of its own;
it is never imported by the grading process.

Everything here runs where the student's code has run, so nothing here is
trusted: the student can replace or bypass any of it. That is harmless by
design. The only thing that leaves the kernel is one JSON string per request,
which the grading process parses strictly (:func:`grading.remote.decode`) and
compares with values it computed itself for inputs it chose. A kernel that lies
can only hand back data, and data earns points only by being right.

Wire format (both directions), JSON with tagged objects:

* ``null``, booleans, numbers and strings as themselves;
* ``{"$list": [...]}``, ``{"$tuple": [...]}``, ``{"$dict": [[key, value], ...]}``;
* ``{"$tensor": {...}}`` / ``{"$ndarray": {...}}``: dtype, shape, base64 bytes, requires_grad;
* ``{"$handle": id, "type": ..., "mro": [...]}``: an object that stays in the kernel
  (a module, a function, a class); the grading process refers to it by id;
* ``{"$pickle": base64}``: only from the grading process to the kernel (a fresh
  ``torch.nn`` module the test built), loaded with ``torch.load``.
"""

import base64
import io
import json

MIME = "application/x-course-result"
_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")


class Agent:
    """Handles of kernel objects and the requests of one graded test cell."""

    def __init__(self, namespace):
        self.namespace = namespace
        self.objects = {}

    # -- encoding -------------------------------------------------------------------------------
    def encode(self, value, depth=0):
        import numpy as np
        import torch

        if depth > 20:
            raise ValueError("the value is nested too deeply")
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, torch.Tensor):
            plain = value.detach().cpu()
            if plain.dtype in (torch.bfloat16,):
                plain = plain.float()
            return {"$tensor": self._array(plain.contiguous().numpy(), bool(value.requires_grad))}
        if isinstance(value, np.ndarray):
            return {"$ndarray": self._array(np.ascontiguousarray(value), False)}
        if isinstance(value, np.generic) and value.dtype.name in _DTYPES:
            return value.item()
        if isinstance(value, torch.Size):
            return {"$tuple": [int(n) for n in value]}
        if type(value) is list:
            return {"$list": [self.encode(v, depth + 1) for v in value]}
        if type(value) is tuple:
            return {"$tuple": [self.encode(v, depth + 1) for v in value]}
        if type(value) is dict or type(value).__name__ == "OrderedDict":
            return {"$dict": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]}
        key = len(self.objects) + 1
        self.objects[key] = value
        kind = type(value)
        mro = [f"{c.__module__}.{c.__qualname__}" for c in getattr(kind, "__mro__", (kind,))]
        return {"$handle": key, "type": f"{kind.__module__}.{kind.__qualname__}", "mro": mro}

    @staticmethod
    def _array(array, requires_grad):
        if array.dtype.name not in _DTYPES:
            raise TypeError(f"arrays of dtype {array.dtype.name} are not supported")
        raw = base64.b64encode(array.tobytes()).decode("ascii")
        return {"dtype": array.dtype.name, "shape": list(array.shape), "data": raw, "requires_grad": requires_grad}

    def decode(self, value, modules):
        import numpy as np
        import torch

        if not isinstance(value, dict):
            return value
        if "$list" in value:
            return [self.decode(v, modules) for v in value["$list"]]
        if "$tuple" in value:
            return tuple(self.decode(v, modules) for v in value["$tuple"])
        if "$dict" in value:
            return {self.decode(k, modules): self.decode(v, modules) for k, v in value["$dict"]}
        if "$handle" in value:
            return self.objects[value["$handle"]]
        if "$pickle" in value:
            obj = torch.load(io.BytesIO(base64.b64decode(value["$pickle"])), weights_only=False)
            modules.append(obj)
            return obj
        for tag in ("$tensor", "$ndarray"):
            if tag in value:
                spec = value[tag]
                array = np.frombuffer(base64.b64decode(spec["data"]), dtype=spec["dtype"]).reshape(spec["shape"])
                if tag == "$ndarray":
                    return array.copy()
                tensor = torch.from_numpy(array.copy())
                return tensor.requires_grad_(True) if spec["requires_grad"] else tensor
        raise ValueError(f"unknown value {sorted(value)}")

    # -- requests -------------------------------------------------------------------------------
    def run(self, text):
        """Answer one request (a JSON string) by displaying one result under :data:`MIME`."""
        from IPython.display import display

        request = json.loads(text)
        try:
            modules = []
            value = self.dispatch(request, modules)
            reply = {"id": request["id"], "ok": True, "value": self.encode(value)}
            reply["sync"] = [self.encode(dict(m.state_dict())) for m in modules if hasattr(m, "state_dict")]
        except BaseException as err:  # noqa: BLE001  (the student's exception is the test's result)
            reply = {"id": request["id"], "ok": False, "ename": type(err).__name__, "evalue": str(err)[:2000]}
        display({MIME: json.dumps(reply)}, raw=True)

    def dispatch(self, request, modules):
        op = request["op"]
        if op == "names":
            return {name: self.namespace[name] for name in request["names"] if name in self.namespace}
        if op == "proc":
            import numpy
            import torch

            scope = {"torch": torch, "F": torch.nn.functional, "np": numpy, "Callable": object, "__name__": "proc"}
            exec(request["source"], scope)
            procedure = scope[request["name"]]
            return procedure(*self.decode(request["args"], modules), **self.decode(request["kwargs"], modules))
        target = self.objects[request["target"]]
        if op == "getattr":
            return getattr(target, request["name"])
        if op == "setattr":
            value = self.decode(request["value"], modules)
            return self._setattr(target, request["name"], value)
        if op == "call":
            return target(*self.decode(request["args"], modules), **self.decode(request["kwargs"], modules))
        if op == "getitem":
            return target[self.decode(request["key"], modules)]
        if op == "list":
            items = []
            for item in target:
                items.append(item)
                if len(items) > 10000:
                    raise ValueError("more than 10000 items")
            return items
        if op == "len":
            return len(target)
        raise ValueError(f"unknown request {op!r}")

    @staticmethod
    def _setattr(target, name, value):
        import torch

        current = getattr(target, name, None)
        if isinstance(current, torch.Tensor) and isinstance(value, torch.Tensor):
            with torch.no_grad():
                current.copy_(value)
        else:
            setattr(target, name, value)
