//! User-visible errors and their SQLSTATE codes.
//!
//! Every failure that can reach a client is an [`Error`]: a [`SqlState`]
//! chosen where the failure is detected, a lowercase primary message without
//! a trailing period, and optional detail/hint sentences. The mapping from
//! [`SqlState`] to the five-character code lives only in [`SqlState::code`].

use std::fmt;

/// A PostgreSQL SQLSTATE condition. Named variants rather than strings so the
/// code is checked by the compiler and chosen in exactly one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SqlState {
    SuccessfulCompletion,
    Warning,
    CardinalityViolation,
    FeatureNotSupported,
    InvalidTransactionState,
    ActiveSqlTransaction,
    NoActiveSqlTransaction,
    InFailedSqlTransaction,
    ReadOnlySqlTransaction,
    SerializationFailure,
    DeadlockDetected,
    DataException,
    StringDataRightTruncation,
    NumericValueOutOfRange,
    InvalidTextRepresentation,
    InvalidBinaryRepresentation,
    InvalidDatetimeFormat,
    DatetimeFieldOverflow,
    InvalidTimeZoneDisplacementValue,
    DivisionByZero,
    InvalidParameterValue,
    InvalidArgumentForLogarithm,
    InvalidArgumentForPowerFunction,
    InvalidArgumentForWidthBucketFunction,
    InvalidSqlJsonSubscript,
    NonNumericSqlJsonItem,
    SingletonSqlJsonItemRequired,
    SqlJsonArrayNotFound,
    SqlJsonMemberNotFound,
    SqlJsonNumberNotFound,
    SqlJsonObjectNotFound,
    InvalidEscapeSequence,
    InvalidRegularExpression,
    CharacterNotInRepertoire,
    UntranslatableCharacter,
    ArraySubscriptError,
    NullValueNotAllowed,
    InvalidRowCountInLimitClause,
    InvalidArgumentForNtile,
    InvalidArgumentForNthValue,
    InvalidPrecedingOrFollowingSize,
    InvalidRowCountInResultOffsetClause,
    InvalidJsonText,
    IntegrityConstraintViolation,
    NotNullViolation,
    ForeignKeyViolation,
    UniqueViolation,
    CheckViolation,
    InvalidCursorName,
    InvalidSqlStatementName,
    InvalidCatalogName,
    InvalidSchemaName,
    InvalidSavepointSpecification,
    InvalidAuthorizationSpecification,
    InvalidPassword,
    SyntaxError,
    InsufficientPrivilege,
    UndefinedColumn,
    UndefinedFunction,
    UndefinedTable,
    UndefinedObject,
    UndefinedParameter,
    DuplicateColumn,
    DuplicateDatabase,
    DuplicateObject,
    DuplicateCursor,
    DuplicatePreparedStatement,
    DuplicateSchema,
    DuplicateTable,
    AmbiguousColumn,
    AmbiguousFunction,
    AmbiguousParameter,
    GroupingError,
    WindowingError,
    DatatypeMismatch,
    WrongObjectType,
    InvalidColumnReference,
    InvalidColumnDefinition,
    InvalidTableDefinition,
    InvalidObjectDefinition,
    InvalidName,
    GeneratedAlways,
    IndeterminateDatatype,
    InvalidForeignKey,
    CannotCoerce,
    DependentObjectsStillExist,
    ObjectInUse,
    SequenceGeneratorLimitExceeded,
    BadCopyFileFormat,
    StatementTooComplex,
    LockNotAvailable,
    ObjectNotInPrerequisiteState,
    UnsafeNewEnumValueUsage,
    ProgramLimitExceeded,
    TooManyConnections,
    DiskFull,
    OutOfMemory,
    QueryCanceled,
    AdminShutdown,
    IoError,
    ProtocolViolation,
    ConnectionFailure,
    DataCorrupted,
    InternalError,
}

impl SqlState {
    /// The five-character SQLSTATE code sent in ErrorResponse's `C` field.
    pub fn code(self) -> &'static str {
        use SqlState::*;
        match self {
            SuccessfulCompletion => "00000",
            Warning => "01000",
            CardinalityViolation => "21000",
            FeatureNotSupported => "0A000",
            InvalidTransactionState => "25000",
            ActiveSqlTransaction => "25001",
            NoActiveSqlTransaction => "25P01",
            InFailedSqlTransaction => "25P02",
            ReadOnlySqlTransaction => "25006",
            SerializationFailure => "40001",
            DeadlockDetected => "40P01",
            DataException => "22000",
            StringDataRightTruncation => "22001",
            NumericValueOutOfRange => "22003",
            InvalidTextRepresentation => "22P02",
            InvalidBinaryRepresentation => "22P03",
            InvalidDatetimeFormat => "22007",
            DatetimeFieldOverflow => "22008",
            InvalidTimeZoneDisplacementValue => "22009",
            DivisionByZero => "22012",
            InvalidParameterValue => "22023",
            InvalidArgumentForLogarithm => "2201E",
            InvalidArgumentForPowerFunction => "2201F",
            InvalidArgumentForWidthBucketFunction => "2201G",
            InvalidSqlJsonSubscript => "22033",
            NonNumericSqlJsonItem => "22036",
            SingletonSqlJsonItemRequired => "22038",
            SqlJsonArrayNotFound => "22039",
            SqlJsonMemberNotFound => "2203A",
            SqlJsonNumberNotFound => "2203B",
            SqlJsonObjectNotFound => "2203C",
            InvalidEscapeSequence => "22025",
            InvalidRegularExpression => "2201B",
            CharacterNotInRepertoire => "22021",
            UntranslatableCharacter => "22P05",
            ArraySubscriptError => "2202E",
            NullValueNotAllowed => "22004",
            InvalidRowCountInLimitClause => "2201W",
            InvalidArgumentForNtile => "22014",
            InvalidArgumentForNthValue => "22016",
            InvalidPrecedingOrFollowingSize => "22013",
            InvalidRowCountInResultOffsetClause => "2201X",
            InvalidJsonText => "22P02",
            IntegrityConstraintViolation => "23000",
            NotNullViolation => "23502",
            ForeignKeyViolation => "23503",
            UniqueViolation => "23505",
            CheckViolation => "23514",
            InvalidCursorName => "34000",
            InvalidSqlStatementName => "26000",
            InvalidCatalogName => "3D000",
            InvalidSchemaName => "3F000",
            InvalidSavepointSpecification => "3B001",
            InvalidAuthorizationSpecification => "28000",
            InvalidPassword => "28P01",
            SyntaxError => "42601",
            InsufficientPrivilege => "42501",
            UndefinedColumn => "42703",
            UndefinedFunction => "42883",
            UndefinedTable => "42P01",
            UndefinedObject => "42704",
            UndefinedParameter => "42P02",
            DuplicateColumn => "42701",
            DuplicateDatabase => "42P04",
            DuplicateObject => "42710",
            DuplicateCursor => "42P03",
            DuplicatePreparedStatement => "42P05",
            DuplicateSchema => "42P06",
            DuplicateTable => "42P07",
            AmbiguousColumn => "42702",
            AmbiguousFunction => "42725",
            AmbiguousParameter => "42P08",
            GroupingError => "42803",
            WindowingError => "42P20",
            DatatypeMismatch => "42804",
            WrongObjectType => "42809",
            InvalidColumnReference => "42P10",
            InvalidColumnDefinition => "42611",
            InvalidTableDefinition => "42P16",
            InvalidObjectDefinition => "42P17",
            InvalidName => "42602",
            GeneratedAlways => "428C9",
            IndeterminateDatatype => "42P18",
            InvalidForeignKey => "42830",
            CannotCoerce => "42846",
            DependentObjectsStillExist => "2BP01",
            ObjectInUse => "55006",
            SequenceGeneratorLimitExceeded => "2200H",
            BadCopyFileFormat => "22P04",
            StatementTooComplex => "54001",
            LockNotAvailable => "55P03",
            ObjectNotInPrerequisiteState => "55000",
            UnsafeNewEnumValueUsage => "55P04",
            ProgramLimitExceeded => "54000",
            TooManyConnections => "53300",
            DiskFull => "53100",
            OutOfMemory => "53200",
            QueryCanceled => "57014",
            AdminShutdown => "57P01",
            IoError => "58030",
            ProtocolViolation => "08P01",
            ConnectionFailure => "08006",
            DataCorrupted => "XX001",
            InternalError => "XX000",
        }
    }
}

/// A user-visible failure with its SQLSTATE.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// The condition, mapped to a SQLSTATE code by [`SqlState::code`].
    pub state: SqlState,
    /// Primary message: lowercase, no trailing period.
    pub message: String,
    /// Optional full-sentence detail.
    pub detail: Option<String>,
    /// Optional full-sentence hint.
    pub hint: Option<String>,
    /// Optional 1-based character position in the statement text.
    pub position: Option<u32>,
}

/// Result alias used across Freshet's SQL layers.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with `state` and primary `message`.
    pub fn new(state: SqlState, message: impl Into<String>) -> Error {
        Error { state, message: message.into(), detail: None, hint: None, position: None }
    }

    /// Adds a detail sentence.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Error {
        self.detail = Some(detail.into());
        self
    }

    /// Adds a hint sentence.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// 42601: the statement cannot be parsed.
    pub fn syntax(message: impl Into<String>) -> Error {
        Error::new(SqlState::SyntaxError, message)
    }

    /// 0A000: a feature Freshet does not support yet, named in the message.
    pub fn unsupported(feature: impl fmt::Display) -> Error {
        Error::new(SqlState::FeatureNotSupported, format!("{feature} is not supported yet"))
    }

    /// XX000: a broken invariant that nonetheless must not crash the server.
    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(SqlState::InternalError, message)
    }

    /// 22P02: `value` is not valid input for the type named `type_name`.
    pub fn invalid_text(type_name: &str, value: &str) -> Error {
        Error::new(
            SqlState::InvalidTextRepresentation,
            format!("invalid input syntax for type {type_name}: \"{value}\""),
        )
    }

    /// 22003 with PostgreSQL's wording for the type named `type_name`.
    pub fn out_of_range(type_name: &str) -> Error {
        Error::new(SqlState::NumericValueOutOfRange, format!("{type_name} out of range"))
    }

    /// 22012.
    pub fn division_by_zero() -> Error {
        Error::new(SqlState::DivisionByZero, "division by zero")
    }

    /// 42P01.
    pub fn undefined_table(name: &str) -> Error {
        Error::new(SqlState::UndefinedTable, format!("relation \"{name}\" does not exist"))
    }

    /// 42703.
    pub fn undefined_column(name: &str) -> Error {
        Error::new(SqlState::UndefinedColumn, format!("column \"{name}\" does not exist"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
