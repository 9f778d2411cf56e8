//! The station's error: what went wrong, in words that name the file, the field or the limit, and
//! the kind that decides the process's exit code (bad input or refused: 2, arm fault: 3).

/// What kind of failure ended a station step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A file, argument or plan was malformed or out of range, or a check refused the motion
    /// before the arm moved.
    Input,
    /// The arm (or its link, or the tracker) faulted while moving; the episode keeps every sample
    /// recorded so far.
    ArmFault,
    /// Anything else (a solver or the file system failing).
    Other,
}

/// An error of the station: a message (with the context of every step that passed it on) and its
/// kind.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StationError {
    /// What went wrong, outermost context first.
    pub message: String,
    /// Its kind.
    pub kind: Kind,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl StationError {
    /// Bad input or a refused motion.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(Kind::Input, message)
    }

    /// A fault on the arm.
    pub fn arm_fault(message: impl Into<String>) -> Self {
        Self::new(Kind::ArmFault, message)
    }

    /// Any other failure.
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(Kind::Other, message)
    }

    fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            kind,
            source: None,
        }
    }

    /// The same error with `context` in front of its message.
    #[must_use]
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The process exit code of this kind: 2 for bad input or a refused motion, 3 for an arm
    /// fault, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Input => 2,
            Kind::ArmFault => 3,
            Kind::Other => 1,
        }
    }
}

/// The kind an error of a lower crate maps to.
pub trait Classify {
    /// Its kind.
    fn kind(&self) -> Kind;
}

macro_rules! classify {
    ($($t:ty => $k:expr),* $(,)?) => {
        $(impl Classify for $t {
            fn kind(&self) -> Kind {
                $k
            }
        })*
    };
}

classify!(
    asid_core::ConfigError => Kind::Input,
    asid_core::ParamError => Kind::Input,
    asid_core::EpisodeError => Kind::Input,
    asid_sim::SimError => Kind::Input,
    asid_explore::ExploreError => Kind::Other,
    asid_sysid::SysIdError => Kind::Other,
    asid_task::TaskError => Kind::Other,
    asid_record::RecordError => Kind::Input,
    asid_record::ConvertError => Kind::Input,
    asid_franka::ConfigError => Kind::Input,
    asid_arm::ArmError => Kind::ArmFault,
    asid_franka::FrankaError => Kind::ArmFault,
    asid_arm::PoseError => Kind::ArmFault,
    asid_lab::LabConfigError => Kind::Input,
    asid_franka::DryRunError => Kind::Input,
    asid_pose::PoseStreamError => Kind::Input,
    std::io::Error => Kind::Other,
    serde_json::Error => Kind::Input,
);

impl<E: Classify + std::error::Error + Send + Sync + 'static> From<E> for StationError {
    fn from(e: E) -> Self {
        Self {
            message: e.to_string(),
            kind: e.kind(),
            source: Some(Box::new(e)),
        }
    }
}

/// Adds context to a fallible step, as `anyhow::Context` does, keeping the error's kind.
pub trait Context<T> {
    /// With a fixed context.
    fn context(self, context: impl std::fmt::Display) -> Result<T, StationError>;
    /// With a context made only on failure.
    fn with_context<C: std::fmt::Display>(self, f: impl FnOnce() -> C) -> Result<T, StationError>;
}

impl<T, E: Into<StationError>> Context<T> for Result<T, E> {
    fn context(self, context: impl std::fmt::Display) -> Result<T, StationError> {
        self.map_err(|e| e.into().context(context))
    }

    fn with_context<C: std::fmt::Display>(self, f: impl FnOnce() -> C) -> Result<T, StationError> {
        self.map_err(|e| e.into().context(f()))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl std::fmt::Display) -> Result<T, StationError> {
        self.ok_or_else(|| StationError::input(context.to_string()))
    }

    fn with_context<C: std::fmt::Display>(self, f: impl FnOnce() -> C) -> Result<T, StationError> {
        self.ok_or_else(|| StationError::input(f().to_string()))
    }
}

/// The station's result.
pub type Result<T, E = StationError> = std::result::Result<T, E>;
