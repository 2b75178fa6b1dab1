//! A reader for the pickles of CIFAR's python-version batches and meta files: a dict of byte or
//! text keys holding ints, strings, lists and one uint8 numpy array.
//!
//! It reads the opcodes of the original Python 2 files (protocol 2: `EMPTY_DICT`, `MARK`,
//! `SHORT_BINSTRING`/`BINSTRING`, `BININT*`, `EMPTY_LIST`/`APPENDS`, `GLOBAL` + `REDUCE` + `BUILD`
//! for the array, memo puts and gets) and those Python 3 writes for the same dict under
//! protocols 2 to 5 (`_codecs.encode` bytes, `BINBYTES*`, `BINUNICODE*`, `FRAME`,
//! `STACK_GLOBAL`, `MEMOIZE`, numpy's `_frombuffer` with `BYTEARRAY8`). Only the numpy callables
//! that rebuild an array or dtype, and `_codecs.encode`, can be called: anything else in the file
//! is refused with an error naming it, so loading never runs code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::file::{format_error, read_bytes};
use crate::{Error, Result};

/// The handle of an object of a [`Pickle`].
pub type ObjId = usize;

/// The callables a CIFAR pickle may name.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Callable {
    /// `numpy.core.multiarray._reconstruct`: an empty array, filled by `BUILD`.
    Reconstruct,
    /// `numpy.ndarray`, the class argument of `_reconstruct`.
    NdArray,
    /// `numpy.dtype`.
    Dtype,
    /// `numpy.core.numeric._frombuffer` (protocol 5 arrays).
    FromBuffer,
    /// `_codecs.encode` (how Python 3 writes bytes under protocol 2).
    Encode,
}

impl Callable {
    fn resolve(module: &str, name: &str) -> Option<Callable> {
        Some(match (module, name) {
            ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct") => {
                Callable::Reconstruct
            }
            ("numpy", "ndarray") => Callable::NdArray,
            ("numpy", "dtype") => Callable::Dtype,
            ("numpy.core.numeric" | "numpy._core.numeric", "_frombuffer") => Callable::FromBuffer,
            ("_codecs", "encode") => Callable::Encode,
            _ => return None,
        })
    }
}

/// A numpy array rebuilt from a pickle: dtype code (e.g. `u1`), shape and raw C-order bytes.
#[derive(Debug, Default)]
struct Array {
    dtype: String,
    shape: Vec<usize>,
    data: Vec<u8>,
}

#[derive(Debug)]
enum Obj {
    None,
    Bool(bool),
    Int(i64),
    Bytes(Vec<u8>),
    Str(String),
    List(Vec<ObjId>),
    Tuple(Vec<ObjId>),
    Dict(Vec<(ObjId, ObjId)>),
    Callable(Callable),
    Dtype(String),
    Array(Array),
}

impl Obj {
    fn kind(&self) -> &'static str {
        match self {
            Obj::None => "None",
            Obj::Bool(_) => "a bool",
            Obj::Int(_) => "an int",
            Obj::Bytes(_) => "bytes",
            Obj::Str(_) => "a str",
            Obj::List(_) => "a list",
            Obj::Tuple(_) => "a tuple",
            Obj::Dict(_) => "a dict",
            Obj::Callable(_) => "a callable",
            Obj::Dtype(_) => "a numpy dtype",
            Obj::Array(_) => "a numpy array",
        }
    }
}

/// A parsed pickle whose top-level object is a dict. Objects live in an arena and refer to each
/// other by [`ObjId`], so memo references share objects as in Python.
#[derive(Debug)]
pub struct Pickle {
    objs: Vec<Obj>,
    root: ObjId,
    path: PathBuf,
}

/// Reads and parses the pickle file `path` (gzip content is decompressed first).
pub fn load(path: &Path) -> Result<Pickle> {
    parse(&read_bytes(path)?, path)
}

/// Parses pickle `bytes` read from `path` (named in errors).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Pickle> {
    let mut p = Parser {
        bytes,
        pos: 0,
        path,
        objs: Vec::new(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
    };
    if bytes.first() != Some(&PROTO) {
        return Err(p.error(format!(
            "not a pickle of protocol 2 or later: first byte {}, expected 0x80",
            bytes
                .first()
                .map_or("missing".into(), |b| format!("0x{b:02x}"))
        )));
    }
    let root = p.run()?;
    let pickle = Pickle {
        objs: p.objs,
        root,
        path: path.to_path_buf(),
    };
    match &pickle.objs[root] {
        Obj::Dict(_) => Ok(pickle),
        other => Err(pickle.error(format!(
            "the pickled object is {}, expected a dict",
            other.kind()
        ))),
    }
}

impl Pickle {
    fn error(&self, msg: impl ToString) -> Error {
        format_error(&self.path, msg)
    }

    /// The text of a str or bytes object.
    fn text(&self, id: ObjId) -> Option<&str> {
        match &self.objs[id] {
            Obj::Str(s) => Some(s),
            Obj::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The value of `key` (a bytes or str key) in the top-level dict, if present.
    pub fn get(&self, key: &str) -> Option<ObjId> {
        let Obj::Dict(items) = &self.objs[self.root] else {
            return None;
        };
        items
            .iter()
            .find(|(k, _)| self.text(*k) == Some(key))
            .map(|&(_, v)| v)
    }

    /// The value of `key` in the top-level dict; an error listing the keys when it is absent.
    pub fn item(&self, key: &str) -> Result<ObjId> {
        self.get(key).ok_or_else(|| {
            let keys: Vec<&str> = match &self.objs[self.root] {
                Obj::Dict(items) => items.iter().filter_map(|(k, _)| self.text(*k)).collect(),
                _ => vec![],
            };
            self.error(format!(
                "the pickled dict has no key '{key}' (keys: {keys:?})"
            ))
        })
    }

    fn list_items(&self, id: ObjId, what: &str) -> Result<&[ObjId]> {
        match &self.objs[id] {
            Obj::List(items) | Obj::Tuple(items) => Ok(items),
            other => Err(self.error(format!("{what}: expected a list, found {}", other.kind()))),
        }
    }

    /// The list `id` of ints (`what` names it in errors).
    pub fn int_list(&self, id: ObjId, what: &str) -> Result<Vec<i64>> {
        self.list_items(id, what)?
            .iter()
            .enumerate()
            .map(|(i, &item)| match &self.objs[item] {
                Obj::Int(v) => Ok(*v),
                other => Err(self.error(format!(
                    "{what}[{i}]: expected an int, found {}",
                    other.kind()
                ))),
            })
            .collect()
    }

    /// The list `id` of strings (bytes decoded as UTF-8).
    pub fn str_list(&self, id: ObjId, what: &str) -> Result<Vec<String>> {
        self.list_items(id, what)?
            .iter()
            .enumerate()
            .map(|(i, &item)| {
                self.text(item).map(str::to_string).ok_or_else(|| {
                    self.error(format!(
                        "{what}[{i}]: expected a string, found {}",
                        self.objs[item].kind()
                    ))
                })
            })
            .collect()
    }

    /// Moves the uint8 numpy array `id` out of the pickle: its shape and bytes.
    pub fn take_u8_array(&mut self, id: ObjId, what: &str) -> Result<(Vec<usize>, Vec<u8>)> {
        let array = match &mut self.objs[id] {
            Obj::Array(a) => std::mem::take(a),
            other => {
                let kind = other.kind();
                return Err(self.error(format!("{what}: expected a numpy array, found {kind}")));
            }
        };
        if array.dtype != "u1" {
            return Err(self.error(format!(
                "{what}: expected a uint8 array (dtype 'u1'), found dtype '{}'",
                array.dtype
            )));
        }
        let count = array
            .shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d));
        if count != Some(array.data.len()) {
            return Err(self.error(format!(
                "{what}: a uint8 array of shape {:?} holds {} bytes",
                array.shape,
                array.data.len()
            )));
        }
        Ok((array.shape, array.data))
    }
}

const PROTO: u8 = 0x80;
const FRAME: u8 = 0x95;
const STOP: u8 = b'.';
const MARK: u8 = b'(';
const EMPTY_DICT: u8 = b'}';
const EMPTY_LIST: u8 = b']';
const EMPTY_TUPLE: u8 = b')';
const TUPLE: u8 = b't';
const TUPLE1: u8 = 0x85;
const TUPLE2: u8 = 0x86;
const TUPLE3: u8 = 0x87;
const APPEND: u8 = b'a';
const APPENDS: u8 = b'e';
const SETITEM: u8 = b's';
const SETITEMS: u8 = b'u';
const BINPUT: u8 = b'q';
const LONG_BINPUT: u8 = b'r';
const MEMOIZE: u8 = 0x94;
const BINGET: u8 = b'h';
const LONG_BINGET: u8 = b'j';
const NONE: u8 = b'N';
const NEWTRUE: u8 = 0x88;
const NEWFALSE: u8 = 0x89;
const BININT: u8 = b'J';
const BININT1: u8 = b'K';
const BININT2: u8 = b'M';
const LONG1: u8 = 0x8a;
const SHORT_BINSTRING: u8 = b'U';
const BINSTRING: u8 = b'T';
const SHORT_BINBYTES: u8 = b'C';
const BINBYTES: u8 = b'B';
const BINBYTES8: u8 = 0x8e;
const BYTEARRAY8: u8 = 0x96;
const SHORT_BINUNICODE: u8 = 0x8c;
const BINUNICODE: u8 = b'X';
const BINUNICODE8: u8 = 0x8d;
const GLOBAL: u8 = b'c';
const STACK_GLOBAL: u8 = 0x93;
const REDUCE: u8 = b'R';
const BUILD: u8 = b'b';

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
    objs: Vec<Obj>,
    stack: Vec<ObjId>,
    marks: Vec<usize>,
    memo: HashMap<usize, ObjId>,
}

impl Parser<'_> {
    fn error(&self, msg: impl ToString) -> Error {
        format_error(self.path, msg.to_string())
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.error(format!(
                "truncated pickle: {n} bytes needed at byte {}, the file has {}",
                self.pos,
                self.bytes.len()
            )));
        };
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn le<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.le::<1>()?[0])
    }

    fn u32(&mut self) -> Result<usize> {
        Ok(u32::from_le_bytes(self.le()?) as usize)
    }

    fn u64(&mut self) -> Result<usize> {
        usize::try_from(u64::from_le_bytes(self.le()?))
            .map_err(|_| self.error("a length in the pickle does not fit in memory"))
    }

    fn line(&mut self) -> Result<String> {
        let rest = &self.bytes[self.pos..];
        let Some(len) = rest.iter().position(|&b| b == b'\n') else {
            return Err(self.error("truncated pickle: a GLOBAL name has no end of line"));
        };
        let text = String::from_utf8_lossy(&rest[..len]).into_owned();
        self.pos += len + 1;
        Ok(text)
    }

    fn push(&mut self, obj: Obj) {
        self.objs.push(obj);
        self.stack.push(self.objs.len() - 1);
    }

    fn pop(&mut self) -> Result<ObjId> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.error(format!(
                "corrupt pickle: stack underflow at byte {}",
                self.pos
            )));
        }
        Ok(self.stack.pop().unwrap_or_default())
    }

    fn top(&self) -> Result<ObjId> {
        self.stack
            .last()
            .copied()
            .ok_or_else(|| self.error(format!("corrupt pickle: empty stack at byte {}", self.pos)))
    }

    fn pop_n(&mut self, n: usize) -> Result<Vec<ObjId>> {
        let mut items = (0..n).map(|_| self.pop()).collect::<Result<Vec<_>>>()?;
        items.reverse();
        Ok(items)
    }

    fn pop_mark(&mut self) -> Result<Vec<ObjId>> {
        let Some(mark) = self.marks.pop() else {
            return Err(self.error(format!("corrupt pickle: no MARK before byte {}", self.pos)));
        };
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn memo_get(&mut self, key: usize) -> Result<()> {
        let id = *self.memo.get(&key).ok_or_else(|| {
            self.error(format!(
                "corrupt pickle: memo entry {key} read before it was written"
            ))
        })?;
        self.stack.push(id);
        Ok(())
    }

    fn text_arg(&self, id: ObjId, what: &str) -> Result<String> {
        match &self.objs[id] {
            Obj::Str(s) => Ok(s.clone()),
            Obj::Bytes(b) => Ok(String::from_utf8_lossy(b).into_owned()),
            other => Err(self.error(format!("{what}: expected a string, found {}", other.kind()))),
        }
    }

    fn string(&mut self, n: usize) -> Result<Obj> {
        let raw = self.take(n)?.to_vec();
        String::from_utf8(raw).map(Obj::Str).map_err(|_| {
            self.error(format!(
                "invalid UTF-8 in a pickled str before byte {}",
                self.pos
            ))
        })
    }

    fn global(&mut self, module: &str, name: &str) -> Result<()> {
        let callable = Callable::resolve(module, name).ok_or_else(|| {
            self.error(format!(
                "the pickle refers to {module}.{name}, which is not part of a CIFAR batch; refusing to load it"
            ))
        })?;
        self.push(Obj::Callable(callable));
        Ok(())
    }

    fn container_op(&mut self, op: u8, items: Vec<ObjId>) -> Result<()> {
        let target = self.top()?;
        let at = self.pos;
        match (&mut self.objs[target], op) {
            (Obj::List(list), APPEND | APPENDS) => list.extend(items),
            (Obj::Dict(dict), SETITEM | SETITEMS) if items.len().is_multiple_of(2) => {
                dict.extend(items.chunks_exact(2).map(|kv| (kv[0], kv[1])))
            }
            (other, _) => {
                let kind = other.kind();
                return Err(self.error(format!(
                    "corrupt pickle: cannot add items to {kind} at byte {at}"
                )));
            }
        }
        Ok(())
    }

    fn ints(&self, id: ObjId, what: &str) -> Result<Vec<usize>> {
        let items = match &self.objs[id] {
            Obj::Tuple(items) | Obj::List(items) => items,
            other => {
                return Err(self.error(format!("{what}: expected a tuple, found {}", other.kind())))
            }
        };
        items
            .iter()
            .map(|&i| match self.objs[i] {
                Obj::Int(v) if v >= 0 => Ok(v as usize),
                _ => Err(self.error(format!("{what}: expected non-negative ints"))),
            })
            .collect()
    }

    fn tuple(&self, id: ObjId, len: usize, what: &str) -> Result<Vec<ObjId>> {
        match &self.objs[id] {
            Obj::Tuple(items) if items.len() == len => Ok(items.clone()),
            other => Err(self.error(format!(
                "{what}: expected a tuple of {len}, found {}",
                other.kind()
            ))),
        }
    }

    fn dtype_code(&self, id: ObjId) -> Result<String> {
        match &self.objs[id] {
            Obj::Dtype(code) => Ok(code.clone()),
            other => Err(self.error(format!(
                "array dtype: expected a numpy dtype, found {}",
                other.kind()
            ))),
        }
    }

    fn bytes_of(&mut self, id: ObjId, what: &str) -> Result<Vec<u8>> {
        match &mut self.objs[id] {
            Obj::Bytes(b) => Ok(std::mem::take(b)),
            other => {
                let kind = other.kind();
                Err(self.error(format!("{what}: expected bytes, found {kind}")))
            }
        }
    }

    fn reduce(&mut self) -> Result<()> {
        let args = self.pop()?;
        let callable = self.pop()?;
        let Obj::Callable(callable) = self.objs[callable] else {
            return Err(self.error(format!(
                "REDUCE on {}, expected a callable",
                self.objs[callable].kind()
            )));
        };
        let obj = match callable {
            Callable::Reconstruct => Obj::Array(Array::default()),
            Callable::Dtype => {
                let a = self.tuple(args, 3, "numpy.dtype arguments")?;
                Obj::Dtype(self.text_arg(a[0], "dtype code")?)
            }
            Callable::FromBuffer => {
                let a = self.tuple(args, 4, "_frombuffer arguments")?;
                let dtype = self.dtype_code(a[1])?;
                let shape = self.ints(a[2], "array shape")?;
                if self.text_arg(a[3], "array order")? != "C" && shape.len() > 1 {
                    return Err(self.error("Fortran-ordered arrays are not supported"));
                }
                let data = self.bytes_of(a[0], "array buffer")?;
                Obj::Array(Array { dtype, shape, data })
            }
            Callable::Encode => {
                let a = self.tuple(args, 2, "_codecs.encode arguments")?;
                let text = self.text_arg(a[0], "encoded text")?;
                let bytes = text
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)))
                    .collect::<std::result::Result<Vec<u8>, _>>()
                    .map_err(|_| {
                        self.error("_codecs.encode: a character above U+00FF is not latin-1")
                    })?;
                Obj::Bytes(bytes)
            }
            Callable::NdArray => {
                return Err(self.error("numpy.ndarray is only valid as an argument"))
            }
        };
        self.push(obj);
        Ok(())
    }

    fn build(&mut self) -> Result<()> {
        let state = self.pop()?;
        let target = self.top()?;
        match &self.objs[target] {
            // A dtype's state (byte order, field names, ...) changes nothing for uint8 data.
            Obj::Dtype(_) => Ok(()),
            Obj::Array(_) => {
                // numpy's state: (version, shape, dtype, is_fortran, raw bytes).
                let s = self.tuple(state, 5, "array state")?;
                let shape = self.ints(s[1], "array shape")?;
                let dtype = self.dtype_code(s[2])?;
                if matches!(self.objs[s[3]], Obj::Bool(true)) && shape.len() > 1 {
                    return Err(self.error("Fortran-ordered arrays are not supported"));
                }
                let data = self.bytes_of(s[4], "array data")?;
                self.objs[target] = Obj::Array(Array { dtype, shape, data });
                Ok(())
            }
            other => Err(self.error(format!(
                "BUILD on {}, which this reader cannot rebuild",
                other.kind()
            ))),
        }
    }

    /// Runs the opcodes up to `STOP` and returns the object left on the stack.
    fn run(&mut self) -> Result<ObjId> {
        loop {
            let at = self.pos;
            let Some(&op) = self.bytes.get(at) else {
                return Err(self.error(format!(
                    "truncated pickle: the file ends after {} bytes without a STOP opcode",
                    self.bytes.len()
                )));
            };
            self.pos += 1;
            match op {
                PROTO => {
                    let version = self.u8()?;
                    if !(2..=5).contains(&version) {
                        return Err(self.error(format!("unsupported pickle protocol {version}, expected 2 to 5")));
                    }
                }
                FRAME => {
                    self.take(8)?;
                }
                STOP => return self.pop(),
                MARK => self.marks.push(self.stack.len()),
                EMPTY_DICT => self.push(Obj::Dict(Vec::new())),
                EMPTY_LIST => self.push(Obj::List(Vec::new())),
                EMPTY_TUPLE => self.push(Obj::Tuple(Vec::new())),
                TUPLE => {
                    let items = self.pop_mark()?;
                    self.push(Obj::Tuple(items));
                }
                TUPLE1 | TUPLE2 | TUPLE3 => {
                    let items = self.pop_n(usize::from(op - TUPLE1 + 1))?;
                    self.push(Obj::Tuple(items));
                }
                APPEND | SETITEM => {
                    let n = if op == APPEND { 1 } else { 2 };
                    let items = self.pop_n(n)?;
                    self.container_op(op, items)?;
                }
                APPENDS | SETITEMS => {
                    let items = self.pop_mark()?;
                    self.container_op(op, items)?;
                }
                BINPUT | LONG_BINPUT | MEMOIZE => {
                    let key = match op {
                        BINPUT => usize::from(self.u8()?),
                        LONG_BINPUT => self.u32()?,
                        _ => self.memo.len(),
                    };
                    let top = self.top()?;
                    self.memo.insert(key, top);
                }
                BINGET => {
                    let key = usize::from(self.u8()?);
                    self.memo_get(key)?;
                }
                LONG_BINGET => {
                    let key = self.u32()?;
                    self.memo_get(key)?;
                }
                NONE => self.push(Obj::None),
                NEWTRUE => self.push(Obj::Bool(true)),
                NEWFALSE => self.push(Obj::Bool(false)),
                BININT => {
                    let v = i32::from_le_bytes(self.le()?);
                    self.push(Obj::Int(i64::from(v)));
                }
                BININT1 => {
                    let v = self.u8()?;
                    self.push(Obj::Int(i64::from(v)));
                }
                BININT2 => {
                    let v = u16::from_le_bytes(self.le()?);
                    self.push(Obj::Int(i64::from(v)));
                }
                LONG1 => {
                    let n = usize::from(self.u8()?);
                    if n > 8 {
                        return Err(self.error(format!("an int of {n} bytes at byte {at} does not fit in 64 bits")));
                    }
                    let raw = self.take(n)?;
                    let negative = raw.last().is_some_and(|&b| b & 0x80 != 0);
                    let mut word = if negative { [0xff; 8] } else { [0; 8] };
                    word[..n].copy_from_slice(raw);
                    self.push(Obj::Int(i64::from_le_bytes(word)));
                }
                SHORT_BINSTRING | SHORT_BINBYTES | BINSTRING | BINBYTES | BINBYTES8 | BYTEARRAY8 => {
                    let n = match op {
                        SHORT_BINSTRING | SHORT_BINBYTES => usize::from(self.u8()?),
                        BINSTRING | BINBYTES => self.u32()?,
                        _ => self.u64()?,
                    };
                    let bytes = self.take(n)?.to_vec();
                    self.push(Obj::Bytes(bytes));
                }
                SHORT_BINUNICODE | BINUNICODE | BINUNICODE8 => {
                    let n = match op {
                        SHORT_BINUNICODE => usize::from(self.u8()?),
                        BINUNICODE => self.u32()?,
                        _ => self.u64()?,
                    };
                    let s = self.string(n)?;
                    self.push(s);
                }
                GLOBAL => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.global(&module, &name)?;
                }
                STACK_GLOBAL => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (module, name) = (self.text_arg(module, "module name")?, self.text_arg(name, "global name")?);
                    self.global(&module, &name)?;
                }
                REDUCE => self.reduce()?,
                BUILD => self.build()?,
                _ => {
                    return Err(self.error(format!(
                        "unsupported pickle opcode 0x{op:02x} at byte {at}: this reader only knows the opcodes of CIFAR python batches"
                    )))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appends a Python 2 `SHORT_BINSTRING` followed by a memo put, as cPickle writes it.
    fn py2_str(out: &mut Vec<u8>, s: &str, memo: u8) {
        out.push(SHORT_BINSTRING);
        out.push(s.len() as u8);
        out.extend_from_slice(s.as_bytes());
        out.extend_from_slice(&[BINPUT, memo]);
    }

    /// A batch laid out byte for byte like CIFAR-10's python-version files (Python 2 cPickle,
    /// protocol 2), holding two 1x3 uint8 images (a real batch has 10000 x 3072).
    fn py2_batch(labels: &[u8], data: &[u8]) -> Vec<u8> {
        let mut b = vec![PROTO, 2, EMPTY_DICT, BINPUT, 1, MARK];
        py2_str(&mut b, "data", 2);
        b.extend_from_slice(b"cnumpy.core.multiarray\n_reconstruct\nq\x03cnumpy\nndarray\nq\x04");
        b.extend_from_slice(&[BININT1, 0, TUPLE1]);
        py2_str(&mut b, "b", 5);
        b.extend_from_slice(&[
            TUPLE3, REDUCE, BINPUT, 6, MARK, BININT1, 1, BININT1, 2, BININT1, 3, TUPLE2,
        ]);
        b.extend_from_slice(b"cnumpy\ndtype\nq\x07");
        py2_str(&mut b, "u1", 8);
        b.extend_from_slice(&[
            BININT1, 0, BININT1, 1, TUPLE3, REDUCE, BINPUT, 9, MARK, BININT1, 3,
        ]);
        py2_str(&mut b, "|", 10);
        b.extend_from_slice(&[
            NONE, NONE, NONE, BININT, 0xff, 0xff, 0xff, 0xff, BININT, 0xff, 0xff, 0xff, 0xff,
        ]);
        b.extend_from_slice(&[BININT1, 0, TUPLE, BUILD, NEWFALSE, BINSTRING]);
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
        b.extend_from_slice(&[BINPUT, 11, TUPLE, BUILD]);
        py2_str(&mut b, "labels", 12);
        b.extend_from_slice(&[EMPTY_LIST, BINPUT, 13, MARK]);
        for &l in labels {
            b.extend_from_slice(&[BININT1, l]);
        }
        b.push(APPENDS);
        py2_str(&mut b, "batch_label", 14);
        py2_str(&mut b, "training batch 1 of 5", 15);
        // The key "b" again, fetched from the memo as cPickle does for repeated strings.
        b.extend_from_slice(&[BINGET, 5, BININT2, 0x10, 0x27, SETITEMS, STOP]);
        b
    }

    #[test]
    fn reads_a_python2_cifar_batch() {
        let bytes = py2_batch(&[6, 9], &[1, 2, 3, 250, 251, 252]);
        let mut p = parse(&bytes, Path::new("batch")).unwrap();
        let labels = p.item("labels").unwrap();
        assert_eq!(p.int_list(labels, "labels").unwrap(), vec![6, 9]);
        let data = p.item("data").unwrap();
        let (shape, pixels) = p.take_u8_array(data, "data").unwrap();
        assert_eq!(shape, vec![2, 3]);
        assert_eq!(pixels, vec![1, 2, 3, 250, 251, 252]);
        let b = p.item("b").unwrap();
        assert!(matches!(p.objs[b], Obj::Int(10000)));
        match p.item("filenames") {
            Err(Error::Format { msg, .. }) => {
                assert!(msg.contains("no key 'filenames'") && msg.contains("batch_label"))
            }
            other => panic!("expected a missing-key error, got {other:?}"),
        }
    }

    #[test]
    fn rejects_truncation_wrong_sizes_and_foreign_globals() {
        let bytes = py2_batch(&[6, 9], &[1, 2, 3, 4, 5, 6]);
        for cut in [1, 40, bytes.len() / 2, bytes.len() - 1] {
            match parse(&bytes[..cut], Path::new("cut")) {
                Err(Error::Format { msg, .. }) => assert!(
                    msg.contains("truncated") || msg.contains("corrupt"),
                    "{msg}"
                ),
                other => panic!("cut at {cut}: expected a format error, got {other:?}"),
            }
        }
        let mut wrong_magic = bytes.clone();
        wrong_magic[0] = 0x7f;
        assert!(
            matches!(parse(&wrong_magic, Path::new("m")), Err(Error::Format { msg, .. }) if msg.contains("0x7f"))
        );

        let mut p = parse(&py2_batch(&[1, 2], &[1, 2, 3, 4, 5]), Path::new("short")).unwrap();
        let data = p.item("data").unwrap();
        assert!(
            matches!(p.take_u8_array(data, "data"), Err(Error::Format { msg, .. }) if msg.contains("holds 5 bytes"))
        );

        let evil = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00lsR.";
        match parse(evil, Path::new("evil")) {
            Err(Error::Format { msg, .. }) => assert!(msg.contains("os.system"), "{msg}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        let not_dict = [PROTO, 2, EMPTY_LIST, STOP];
        assert!(
            matches!(parse(&not_dict, Path::new("l")), Err(Error::Format { msg, .. }) if msg.contains("a list"))
        );
        let float_op = [PROTO, 2, b'G', 0, 0, 0, 0, 0, 0, 0, 0, STOP];
        assert!(
            matches!(parse(&float_op, Path::new("f")), Err(Error::Format { msg, .. }) if msg.contains("opcode 0x47"))
        );
    }
}
