//! Where a tensor's storage lives.

use std::fmt;

/// A compute device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Device {
    #[default]
    Cpu,
    Cuda(usize),
}

impl Device {
    /// Parses `"cpu"`, `"cuda"` or `"cuda:N"`.
    pub fn parse(name: &str) -> crate::Result<Device> {
        match name {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda(0)),
            s if s.starts_with("cuda:") => s[5..].parse().map(Device::Cuda).map_err(|_| {
                crate::Error::arg(
                    "device",
                    "device",
                    "'cpu', 'cuda' or 'cuda:N'",
                    format!("{s:?}"),
                )
            }),
            s => Err(crate::Error::arg(
                "device",
                "device",
                "'cpu', 'cuda' or 'cuda:N'",
                format!("{s:?}"),
            )),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}
