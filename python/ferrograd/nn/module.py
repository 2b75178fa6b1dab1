"""The Module base class: parameters, buffers and child modules registered by attribute, with
PyTorch's naming (``layer1.0.conv1.weight``), train/eval mode and state dicts."""

from __future__ import annotations

import builtins

from collections import OrderedDict
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Optional, Sequence

from .. import _core
from .._core import Tensor
from .hooks import ModelSummary, RemovableHandle, call_with_hooks, summarize


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` skipped: the module's names absent from the state, and
    the state's names the module does not have."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class _ParameterMeta(type):
    """Makes ``isinstance(t, Parameter)`` true for the tensors a Module registers as parameters."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.requires_grad and obj.is_leaf


class Parameter(metaclass=_ParameterMeta):
    """Marks a tensor as a trainable parameter when assigned to a Module attribute.

    ``Parameter(t)`` returns a leaf sharing ``t``'s storage with ``requires_grad=True``, as in
    PyTorch. There is no separate parameter type: a Module registers any leaf tensor that
    requires gradients as a parameter, and ``isinstance(t, Parameter)`` is true for exactly those
    tensors (so a frozen parameter, ``requires_grad=False``, reads as a plain tensor).
    """

    def __new__(cls, data: Tensor, requires_grad: bool = True) -> Tensor:  # type: ignore[misc]
        t = data.detach()
        t.requires_grad = requires_grad
        return t


class Module:
    """Base class of every layer and model.

    Subclasses assign parameters (tensors with ``requires_grad=True``), buffers (registered with
    :meth:`register_buffer`) and child modules as attributes in ``__init__``, and implement
    :meth:`forward`. Calling the module calls ``forward``.
    """

    training: bool
    _parameters: "OrderedDict[str, Tensor]"
    _buffers: "OrderedDict[str, Tensor]"
    _modules: "OrderedDict[str, Module]"
    _forward_hooks: "OrderedDict[int, Callable[..., Any]]"
    _forward_pre_hooks: "OrderedDict[int, Callable[..., Any]]"
    _backward_hooks: "OrderedDict[int, Callable[..., Any]]"
    _backward_pre_hooks: "OrderedDict[int, Callable[..., Any]]"

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)  # a parametrized tensor: its setter decides
            return
        if isinstance(value, Buffer):
            self.register_buffer(name, value.data, value.persistent)
            return
        target: Optional["OrderedDict[str, Any]"] = None
        if isinstance(value, Module):
            target = self._modules
        elif isinstance(value, Tensor) and value.requires_grad and value.is_leaf:
            target = self._parameters
        elif isinstance(value, Tensor) and name in self.__dict__.get("_buffer_names", ()):
            target = self._buffers
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not target:
                registry.pop(name, None)
        if target is not None:
            target[name] = value  # a name registered before keeps its place, as in PyTorch
        object.__setattr__(self, name, value)

    def add_module(self, name: str, module: Optional["Module"]) -> None:
        """Registers ``module`` as the child ``name``, as ``setattr(self, name, module)`` does
        (``torch.nn.Module.add_module``); ``None`` leaves no child under that name. The name must
        be a non-empty string without dots that is not already an attribute other than a child."""
        if not isinstance(name, str):
            raise TypeError(f"add_module: argument `name` expected a str, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"add_module: argument `name` expected a non-empty name without '.', got {name!r}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"add_module: argument `name` expected a new attribute name, got {name!r}, which "
                           f"{type(self).__name__} already has")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: argument `module` expected a Module or None, got {type(module).__name__}")
        setattr(self, name, module)

    def register_module(self, name: str, module: Optional["Module"]) -> None:
        """The same as :meth:`add_module` (``torch.nn.Module.register_module``)."""
        self.add_module(name, module)

    def get_submodule(self, target: str) -> "Module":
        """The descendant named ``target`` (dotted, as in ``named_modules``; "" is self)."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(f"get_submodule: {type(module).__name__} has no child {part!r} (in {target!r})")
            module = module._modules[part]
        return module

    def set_submodule(self, target: str, module: "Module") -> None:
        """Replaces the existing descendant ``target`` by ``module``, keeping its place among its
        siblings (so a Sequential still runs in the same order)."""
        parent_name, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_name)
        if name not in parent._modules:
            raise AttributeError(f"set_submodule: {type(parent).__name__} has no child {name!r} (in {target!r})")
        if not isinstance(module, Module):
            raise TypeError(f"set_submodule: argument `module` expected a Module, got {type(module).__name__}")
        parent._modules[name] = module
        object.__setattr__(parent, name, module)

    def register_buffer(self, name: str, tensor: Optional[Tensor], persistent: bool = True) -> None:
        """Registers a non-trainable tensor (e.g. running statistics) that moves with the module;
        it belongs in the state dict unless ``persistent=False`` (a cache or a constant table that
        the module rebuilds). ``None`` reserves the name for a tensor assigned later."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: argument `tensor` expected a Tensor or None, got {type(tensor).__name__}")
        self.__dict__.setdefault("_buffer_names", set()).add(name)
        transient = self.__dict__.setdefault("_non_persistent_buffers", set())
        if persistent:
            transient.discard(name)
        else:
            transient.add(name)
        setattr(self, name, tensor)

    def register_parameter(self, name: str, param: Optional[Tensor]) -> None:
        """Registers ``param`` as the parameter ``name`` (also when it does not require grad, a
        frozen parameter); ``None`` leaves the attribute None and out of the state dict."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_parameter: argument `name` expected a non-empty name without '.', got {name!r}")
        if param is not None and not isinstance(param, Tensor):
            raise TypeError(f"register_parameter: argument `param` expected a Tensor or None, got {type(param).__name__}")
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if param is not None:
            self._parameters[name] = param
        object.__setattr__(self, name, param)

    def get_parameter(self, target: str) -> Tensor:
        """The parameter named ``target`` (dotted, as in ``named_parameters``)."""
        return self._get_tensor(target, "_parameters", "parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer named ``target`` (dotted, as in ``named_buffers``)."""
        return self._get_tensor(target, "_buffers", "buffer")

    def _get_tensor(self, target: str, registry: str, what: str) -> Tensor:
        owner_path, _, name = target.rpartition(".")
        owner = self.get_submodule(owner_path)
        found = getattr(owner, registry).get(name)
        if found is None:
            raise AttributeError(f"get_{what}: {type(owner).__name__} has no {what} {name!r}")
        return found

    def get_extra_state(self) -> Any:
        """State beyond parameters and buffers that the state dict should carry (under
        ``<prefix>_extra_state``); a module that has some overrides this and :meth:`set_extra_state`."""
        raise RuntimeError(f"{type(self).__name__} keeps no extra state (override get_extra_state to add some)")

    def set_extra_state(self, state: Any) -> None:
        """Restores what :meth:`get_extra_state` returned, when a state dict is loaded."""
        raise RuntimeError(f"{type(self).__name__} keeps no extra state (override set_extra_state to restore it)")

    def _has_extra_state(self) -> bool:
        return type(self).get_extra_state is not Module.get_extra_state

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Computes the module's output; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._has_hooks():
            return call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # -- hooks -------------------------------------------------------------------------------

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Calls ``hook(module, inputs, output)`` after every forward call; a value it returns
        replaces the output. While a module in the model has hooks, training and attack loops run
        that module's Python call (so the hooks fire) instead of its native layer."""
        return RemovableHandle(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Calls ``hook(module, inputs)`` before every forward call; a value it returns (a tuple,
        or a single input) replaces the positional inputs."""
        return RemovableHandle(self._forward_pre_hooks, hook)

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Calls ``hook(module, grad_input, grad_output)`` when the gradients of the module's
        inputs are computed: ``grad_input`` holds one gradient per positional input (None for
        those that are not tensors or do not require grad) and ``grad_output`` one per Tensor
        output that requires grad. A tuple it
        returns replaces ``grad_input``. As in PyTorch, when no input requires grad the hook runs
        once the output's gradient is known, with ``grad_input`` all None."""
        return RemovableHandle(self._backward_hooks, hook)

    def register_full_backward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Calls ``hook(module, grad_output)`` when the gradients of the module's outputs are
        known, before they flow into the module; a tuple it returns replaces ``grad_output``."""
        return RemovableHandle(self._backward_pre_hooks, hook)

    def _has_hooks(self) -> bool:
        return bool(self._forward_hooks or self._forward_pre_hooks or self._backward_hooks or self._backward_pre_hooks)

    def _loop_layer(self) -> "_core.Layer":
        """The Rust layer the training, evaluation and attack loops run: the native one, or the
        Python call while the module has hooks or computes a tensor through a parametrization
        (a native layer would hold one computed value instead of recomputing it)."""
        if self._has_hooks() or self._has_parametrizations():
            return _core.Layer.python(self.__call__)
        return self._to_layer()

    def _has_parametrizations(self) -> bool:
        """Whether this module or one inside it has a parametrized tensor (containers whose
        native layer is built from their children's own loop layers check only themselves)."""
        from .utils.parametrize import is_parametrized

        return any(is_parametrized(m) for m in self.modules())

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Calls ``fn`` on every sub-module and then on this module (e.g. a custom
        initialisation); returns this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def summary(self, *inputs: Any) -> ModelSummary:
        """Each module's output shape (when sample ``inputs`` are given; the forward pass runs in
        eval mode without gradients) and parameter count, with the totals, as Keras's
        ``model.summary()``."""
        return summarize(self, *inputs)

    def _forward_relu(self, x: Any) -> Any:
        """``relu(self(x))`` as one fused op for layers that have one, else None; ``Sequential``
        calls it for a layer followed by a ``ReLU``."""
        return None

    def _forward_relu_max_pool(self, x: Any, pool: Any) -> Any:
        """``pool(relu(self(x)))`` as one fused op for layers that have one, else None;
        ``Sequential`` calls it for a layer followed by a ``ReLU`` and a ``MaxPool2d``."""
        return None

    def _to_layer(self) -> "_core.Layer":
        """This module as a Rust layer sharing its parameters, for the Rust training loop. Built-in
        layers and containers return native layers; any other module runs its Python ``forward``
        from the loop (correct, but it takes the GIL for that call)."""
        return _core.Layer.python(self.__call__)

    # -- traversal -----------------------------------------------------------------------

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Direct child modules with their attribute names."""
        yield from self._modules.items()

    def children(self) -> Iterator["Module"]:
        """The direct sub-modules."""
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module and every descendant, with dotted names."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator["Module"]:
        """This module and every module inside it, depth first."""
        for _, m in self.named_modules():
            yield m

    def _own_parameters(self) -> Iterator[tuple[str, Tensor]]:
        yield from self._parameters.items()

    def _own_buffers(self) -> Iterator[tuple[str, Tensor]]:
        yield from self._buffers.items()

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every trainable parameter with its state-dict name, each once."""
        seen: set[int] = set()
        for mod_name, mod in self.named_modules(prefix):
            for name, p in mod._own_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self) -> Iterator[Tensor]:
        """Every parameter of this module and its sub-modules (each once)."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """``(name, buffer)`` pairs (e.g. batch-norm running statistics) with dotted names."""
        for mod_name, mod in self.named_modules(prefix):
            for name, b in mod._own_buffers():
                yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self) -> Iterator[Tensor]:
        """Every buffer of this module and its sub-modules."""
        for _, b in self.named_buffers():
            yield b

    # -- devices -----------------------------------------------------------------------------

    def to(self, device: Optional[str] = None, *, memory_format: Optional[_core.memory_format] = None) -> "Module":
        """Moves every parameter and buffer to ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``) and
        returns this module, as ``torch.nn.Module.to``. Parameters are replaced by leaves on the new
        device with the same ``requires_grad``, so build the optimizer after moving the model.

        ``memory_format=ferrograd.channels_last`` makes every ``Conv2d`` bring its input to that
        format, so convolution outputs are channels-last (``contiguous_format`` undoes it). The
        weights stay row-major, the layout the kernels and optimizers read."""
        if memory_format is not None:
            if not isinstance(memory_format, _core.memory_format):
                raise TypeError(f"Module.to: memory_format must be a ferrograd.memory_format (e.g. "
                                f"ferrograd.channels_last), got {memory_format!r}")
            for mod in self.modules():
                mod._set_memory_format(memory_format)
        if device is None:
            return self
        target = "cuda:0" if device == "cuda" else device
        for mod in self.modules():
            for name, p in list(mod._parameters.items()):
                if p.device == target:
                    continue
                moved = p.detach().to(device)
                moved.requires_grad = p.requires_grad
                setattr(mod, name, moved)
            for name, b in list(mod._buffers.items()):
                if b.device != target:
                    setattr(mod, name, b.to(device))
        return self

    def _set_memory_format(self, memory_format: _core.memory_format) -> None:
        """Layers whose kernels have a memory format (``Conv2d``) take ``memory_format`` from
        :meth:`to`; other modules ignore it, as in PyTorch."""

    def cuda(self, device: int = 0) -> "Module":
        """Moves the module to CUDA device ``device`` (see :meth:`to`)."""
        return self.to(f"cuda:{int(device)}")

    def cpu(self) -> "Module":
        """Moves the module to the CPU (see :meth:`to`)."""
        return self.to("cpu")

    def _cast_floating(self, dtype: str) -> "Module":
        """Casts every floating-point parameter and buffer to ``dtype`` in place (parameters
        become new leaves with the same ``requires_grad``, in the same order); integer buffers
        such as ``num_batches_tracked`` keep their dtype, as in PyTorch."""
        floating = ("float32", "float16", "bfloat16")
        for mod in self.modules():
            for name, p in list(mod._parameters.items()):
                if p.dtype in floating and p.dtype != dtype:
                    cast = p.detach().to(dtype)
                    cast.requires_grad = p.requires_grad
                    mod._parameters[name] = cast
                    object.__setattr__(mod, name, cast)
            for name, b in list(mod._buffers.items()):
                if b.dtype in floating and b.dtype != dtype:
                    cast = b.to(dtype)
                    mod._buffers[name] = cast
                    object.__setattr__(mod, name, cast)
        return self

    def float(self) -> "Module":
        """Casts floating-point parameters and buffers to float32; returns this module
        (``torch.nn.Module.float``). Build the optimizer after casting."""
        return self._cast_floating("float32")

    def half(self) -> "Module":
        """Casts floating-point parameters and buffers to float16; returns this module
        (``torch.nn.Module.half``). Build the optimizer after casting."""
        return self._cast_floating("float16")

    def bfloat16(self) -> "Module":
        """Casts floating-point parameters and buffers to bfloat16; returns this module
        (``torch.nn.Module.bfloat16``). Build the optimizer after casting."""
        return self._cast_floating("bfloat16")

    def double(self) -> "Module":
        """Not supported: ferrograd has no float64 dtype. Raises ``TypeError``."""
        raise TypeError(f"{type(self).__name__}.double(): ferrograd does not support float64 tensors; "
                        f"use .float() (float32), .half() or .bfloat16()")

    def num_parameters(self) -> int:
        """Total number of trainable scalars."""
        return sum(p.numel() for p in self.parameters())

    # -- training loops (run in Rust; see ferrograd.training) ------------------------------

    def fit(self, train: Any, epochs: int = 1, batch_size: int = 32, optimizer: Any = None, loss: Any = "cross_entropy",
            val: Any = None, schedule: Any = None, augment: Sequence[Any] = (), transforms: Sequence[Any] = (),
            callbacks: Sequence[Any] = (), device: Optional[str] = None, grad_clip: Optional[builtins.float] = None, accumulate: int = 1,
            shuffle: bool = True, seed: Optional[int] = None, verbose: bool = True, progress_every: int = 10,
            checkpoint: Any = None, resume: Any = None, val_batch_size: int = 512, adversarial: Any = None,
            val_attack: Any = None, precision: str = "f32", cuda_graphs: bool = True) -> Any:
        """Trains the model; each epoch (forward, loss, backward, clipping, optimizer step and
        per-step schedule) runs in Rust with the GIL released. Returns a :class:`~ferrograd.training.History`.

        - ``train`` / ``val``: a :class:`ferrograd.data.Dataset`, a ``DataLoader``, or ``(X, y)`` arrays.
        - ``optimizer``: a ``ferrograd.optim`` optimizer over this model's parameters (default Adam, lr 1e-3).
        - ``loss``: ``"cross_entropy"``, ``"nll"``, ``nn.CrossEntropyLoss(...)``/``nn.NLLLoss(...)``, or any
          callable ``loss(output, labels) -> Tensor`` (called from the loop under the GIL).
        - ``schedule``: a ``ferrograd.optim.lr_scheduler`` schedule, stepped per epoch, or per optimizer
          step when its ``interval`` is ``"step"`` (OneCycleLR's default).
        - ``augment``: transforms for training batches only; ``transforms``: for training and validation
          (applied after ``augment``).
        - ``callbacks``: e.g. ``EarlyStopping``, ``ModelCheckpoint``, ``ReduceLROnPlateau``; a tqdm progress bar is added unless
          ``verbose=False``, fed from Rust every ``progress_every`` batches.
        - ``grad_clip``: clip the global gradient norm; ``accumulate``: batches per optimizer step.
        - ``device``: ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (default: where the parameters are). Each batch
          moves there inside the loop; a model elsewhere is moved first (create the optimizer after
          that, or let ``fit`` create it). Adversarial training runs on the CPU only so far.
        - ``seed``: the shuffle/augmentation seed (default: drawn from ``fg.manual_seed``'s generator).
        - ``checkpoint``: a path rewritten atomically after every epoch with model, optimizer, schedule,
          RNG and loader state; ``resume``: such a file to continue from (same arguments otherwise).
        - ``adversarial``: an attack from ``ferrograd.attacks`` that replaces every training batch by its
          adversarial version inside the Rust loop (PGD-AT with ``PGD(...)``; Fast-AT with
          ``training.FastAT(model, eps)``; TRADES with ``training.TRADES(model, eps)``; free adversarial training,
          every batch replayed, with ``training.FreeAT(model, eps, replays)``; adversarial weight perturbation
          around any of them with ``training.AWP(...)``); ``val_attack`` adds ``val_robust_accuracy``
          to each epoch's metrics (monitor it with ``ModelCheckpoint`` to keep the most robust weights).
          Keep normalisation inside the model (``nn.Normalize``) so ε is in input units.
        - ``precision``: ``"bf16"`` runs the products (linear layers, convolutions, attention) of
          training and validation on bfloat16 operands with float32 accumulation and float32
          weights, as :class:`ferrograd.autocast` does; ``"f32"`` (the default) runs them in float32.
        - ``cuda_graphs``: on a GPU, the forward and backward passes of batches whose shapes repeat are
          captured once as a CUDA graph and replayed with one launch (the optimizer step runs after
          it as usual); each epoch's ``graphed`` metric counts those batches, and dropout draws
          fresh masks on every replay. A model whose step cannot be replayed (reading values back,
          copying host tensors in) falls back to running op by op with a warning naming the reason.
          Steps that accumulate gradients run op by op; with ``adversarial`` the attack's steps
          are replayed instead. Ignored on the CPU.

        Ctrl-C stops at the next batch boundary and raises KeyboardInterrupt with the model and
        optimizer consistent (the interrupted epoch is not recorded).
        """
        from ..training import fit

        return fit(self, train, epochs=epochs, batch_size=batch_size, optimizer=optimizer, loss=loss, val=val,
                   schedule=schedule, augment=augment, transforms=transforms, callbacks=callbacks, device=device,
                   grad_clip=grad_clip, accumulate=accumulate, shuffle=shuffle, seed=seed, verbose=verbose,
                   progress_every=progress_every, checkpoint=checkpoint, resume=resume, val_batch_size=val_batch_size,
                   adversarial=adversarial, val_attack=val_attack, precision=precision, cuda_graphs=cuda_graphs)

    def evaluate(self, data: Any, batch_size: int = 512, loss: Any = "cross_entropy", transforms: Sequence[Any] = (),
                 top_k: Sequence[int] = (1, 5), device: Optional[str] = None) -> Any:
        """Loss, accuracy, top-k accuracy, per-class precision/recall/F1 with micro, macro and
        weighted averages, and the confusion matrix, as an :class:`~ferrograd.training.EvaluationReport`
        (``.report()`` prints scikit-learn's classification report). Runs in eval mode, in Rust."""
        from ..training import evaluate

        return evaluate(self, data, batch_size=batch_size, loss=loss, transforms=transforms, top_k=top_k, device=device)

    def predict(self, data: Any, batch_size: int = 512, probabilities: bool = False, transforms: Sequence[Any] = (),
                device: Optional[str] = None) -> Any:
        """The model's outputs (logits, or softmax probabilities with ``probabilities=True``) for a
        Dataset, a DataLoader or an array of inputs, as a numpy array in input order."""
        from ..training import predict

        return predict(self, data, batch_size=batch_size, probabilities=probabilities, transforms=transforms, device=device)

    # -- modes and gradients -----------------------------------------------------------------

    def train(self, mode: bool = True) -> "Module":
        """Sets training mode (dropout active, batch norm uses batch statistics) recursively."""
        for m in self.modules():
            object.__setattr__(m, "training", mode)
            m._on_mode_change(mode)
        return self

    def eval(self) -> "Module":
        """Sets evaluation mode recursively."""
        return self.train(False)

    def _on_mode_change(self, mode: bool) -> None:
        """Hook for modules backed by a Rust module that keeps its own flag."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the gradients of every parameter.

        As in PyTorch, ``set_to_none=True`` (the default) sets each ``.grad`` to ``None``;
        ``set_to_none=False`` fills the existing gradients with zeros in place."""
        if not isinstance(set_to_none, bool):
            raise TypeError(f"zero_grad(): set_to_none must be a bool, got {type(set_to_none).__name__}")
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def requires_grad_(self, flag: bool = True) -> "Module":
        """Freezes (False) or unfreezes (True) every parameter."""
        for p in self.parameters():
            p.requires_grad = flag
        return self

    # -- state -------------------------------------------------------------------------------

    def state_dict(self, keep_vars: bool = False) -> "OrderedDict[str, Any]":
        """Parameters and buffers by name, sharing storage with the module (PyTorch's order:
        each module's parameters, then its buffers, then its ``_extra_state`` when it has some,
        then its children). As in PyTorch the values are detached from autograd unless
        ``keep_vars=True``."""
        out: OrderedDict[str, Any] = OrderedDict()
        for mod_name, mod in self.named_modules():
            prefix = f"{mod_name}." if mod_name else ""
            for name, p in mod._own_parameters():
                out[prefix + name] = p if keep_vars else p.detach()
            transient = mod.__dict__.get("_non_persistent_buffers", ())
            for name, b in mod._own_buffers():
                if name not in transient:
                    out[prefix + name] = b
            if mod._has_extra_state():
                out[prefix + "_extra_state"] = mod.get_extra_state()
        return out

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> "IncompatibleKeys":
        """Copies values into the module's parameters and buffers.

        Every name and shape is checked before anything is written, so a mismatch raises
        ``KeyError``/``ValueError`` and leaves the module unchanged. With ``strict=False`` names
        that do not match are skipped; as in PyTorch, the skipped names are returned.
        """
        own = self.state_dict(keep_vars=True)
        extras = {(f"{n}." if n else "") + "_extra_state": m for n, m in self.named_modules() if m._has_extra_state()}
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        pending = []
        for name, target in own.items():
            if name not in state or name in extras:
                continue
            value = state[name]
            if not isinstance(value, Tensor):
                import numpy as np

                value = np.asarray(value)
                value = Tensor.from_numpy(value if value.flags.c_contiguous else np.ascontiguousarray(value))
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(
                    f"load_state_dict: parameter {name!r} expected shape {tuple(target.shape)}, got {tuple(value.shape)}"
                )
            pending.append((target, value))
        for target, value in pending:
            target.copy_(value)
        for name, module in extras.items():
            if name in state:
                module.set_extra_state(state[name])
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: str) -> None:
        """Writes the state dict as safetensors, atomically (temp file, then rename)."""
        from ..io import save_safetensors

        save_safetensors(self.state_dict(), path)

    def load(self, path: str, strict: bool = True) -> "IncompatibleKeys":
        """Loads a safetensors state dict written by :meth:`save` (or by PyTorch)."""
        from ..io import load_safetensors

        return self.load_state_dict(load_safetensors(path), strict=strict)

    # -- display -----------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The constructor arguments shown in the repr."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class Buffer:
    """Marks a tensor assigned to a module attribute as a buffer (``self.mask = Buffer(t)``, as
    ``torch.nn.Buffer``): the assignment registers ``data`` with :meth:`Module.register_buffer`,
    in the state dict unless ``persistent=False``."""

    def __init__(self, data: Optional[Tensor] = None, *, persistent: bool = True) -> None:
        self.data, self.persistent = data, persistent


__all__ = ["Module", "Parameter", "Buffer"]
