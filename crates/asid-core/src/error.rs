//! Errors of the core crate: every configuration error names the file, the key path and what is allowed.

use std::path::PathBuf;

/// A configuration file could not be read, parsed or validated.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    // The OS error is part of the message, not a `source`: anyhow would print it twice.
    #[error("{file}: cannot read: {os_error}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        os_error: std::io::Error,
    },
    /// The file is not valid TOML, or a key is unknown / mistyped / missing.
    #[error("{file}: at `{key}`: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// Dotted key path of the offending entry (`.` for the document root).
        key: String,
        /// What the parser said, including the allowed keys or variants.
        message: String,
    },
    /// A value parsed but is not allowed.
    #[error("{file}: at `{key}`: {message} (allowed: {allowed})")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Dotted key path of the offending entry.
        key: String,
        /// What is wrong, with the offending value.
        message: String,
        /// The allowed values or range.
        allowed: String,
    },
}

impl ConfigError {
    /// Builds an [`ConfigError::Invalid`].
    pub fn invalid(
        file: impl Into<PathBuf>,
        key: impl Into<String>,
        message: impl Into<String>,
        allowed: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            file: file.into(),
            key: key.into(),
            message: message.into(),
            allowed: allowed.into(),
        }
    }

    /// The dotted key path this error is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Io { .. } => None,
            Self::Parse { key, .. } | Self::Invalid { key, .. } => Some(key),
        }
    }
}

/// Reads a TOML file into `T`, reporting the key path of any error.
pub fn read_toml<T: serde::de::DeserializeOwned>(file: &std::path::Path) -> Result<T, ConfigError> {
    let text = crate::read_limit::read_limited_string(file, crate::read_limit::CONFIG_MAX_BYTES)
        .map_err(|os_error| ConfigError::Io {
            file: file.to_path_buf(),
            os_error,
        })?;
    parse_toml(file, &text)
}

/// Parses TOML text (named `file` in errors) into `T`, reporting the key path of any error.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &std::path::Path,
    text: &str,
) -> Result<T, ConfigError> {
    let de = toml::de::Deserializer::parse(text).map_err(|e| ConfigError::Parse {
        file: file.to_path_buf(),
        key: ".".into(),
        message: one_line(&e.to_string()),
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        ConfigError::Parse {
            file: file.to_path_buf(),
            key,
            message: one_line(&e.into_inner().to_string()),
        }
    })
}

/// toml's messages carry a multi-line snippet; keep the first informative line plus the location.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        [] => String::new(),
        [only] => (*only).to_string(),
        [first, rest @ ..] => {
            let last = rest.last().copied().unwrap_or_default();
            if last.starts_with('|') || last.starts_with('^') {
                (*first).to_string()
            } else {
                format!("{first} {last}")
            }
        }
    }
}
