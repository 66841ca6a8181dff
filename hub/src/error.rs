//! Every failure the hub answers with, and its `ApiError` body: clients (connectors,
//! counters) branch on `code`, people read `message`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use yizhan_sync::protocol::{ApiError, FieldError};

use crate::accounts::AuthError as SignInError;
use crate::accounts::admin::AdminError;
use crate::push::auth::AuthError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("请求体不是合法的 JSON：{0}")]
    MalformedJson(String),
    #[error("请求体结构不正确：{0}")]
    InvalidBody(String),
    #[error("{} 条记录未通过校验", count_records(.0))]
    InvalidRecords(Vec<FieldError>),
    #[error("请求体超过 {limit_mib} MiB 上限")]
    BodyTooLarge { limit_mib: usize },
    #[error("查询参数不正确：{0}")]
    BadQuery(String),
    #[error("客户端游标 {after} 超过数据中心最新序号 {head}")]
    CursorAhead { after: u64, head: u64 },
    #[error("数据中心没有项目 {0}")]
    UnknownProject(String),
    #[error("没有这个接口：{0}")]
    NoSuchEndpoint(String),
    #[error("该接口不支持 {0} 方法")]
    MethodNotAllowed(String),
    #[error("客户端游标 {after} 早于数据中心已压缩的日志（保留自第 {horizon} 号之后）")]
    CursorCompacted { after: u64, horizon: u64 },
    #[error("文件无法导入：{0}")]
    UnreadableFile(String),
    #[error("隔离区没有第 {0} 号记录")]
    NoSuchQuarantine(u64),
    #[error("尚未导入过规划审批文件，无可核对")]
    NothingImported,
    /// This hub was started without alert evaluation.
    #[error("本数据中心未启用预警评估")]
    AlertsOff,
    #[error("隔离区第 {0} 号记录已处理过")]
    QuarantineClosed(u64),
    /// A department's push that did not prove who sent it, or may not push that source.
    #[error(transparent)]
    PushAuth(#[from] AuthError),
    #[error("终端 {0} 已登记了另一把签名公钥")]
    KeyConflict(String),
    #[error("数据中心没有票据 {0}")]
    UnknownDocument(String),
    /// A counter's signed upload from a device with no registered key.
    #[error("终端 {0} 未登记签名公钥，无法核验其上传的内容")]
    UnknownCounter(String),
    /// A counter's signed upload whose signature does not hold under its registered key.
    #[error("上传内容的签名与终端 {0} 登记的公钥不符（内容被改动过）")]
    BadSignature(String),
    #[error("文件与票据 {0} 登记的 PDF 摘要不符")]
    FileMismatch(String),
    /// A person's request without a valid session, or without the permission.
    #[error(transparent)]
    Auth(#[from] SignInError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Device(#[from] crate::devices::DeviceError),
    #[error("请求体应为 {expected}，收到 {given}")]
    UnsupportedMediaType { expected: &'static str, given: String },
    #[error("请求的主机名 {0:?} 不是本数据中心的名称")]
    UnknownHost(String),
    /// A route the access table does not name: refused until it is declared.
    #[error("接口 {0} 未声明访问权限")]
    Undeclared(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for HubError {
    fn from(e: StoreError) -> HubError {
        match e {
            StoreError::BelowHorizon { after, horizon } => HubError::CursorCompacted { after, horizon },
            e => HubError::Store(e),
        }
    }
}

fn count_records(errors: &[FieldError]) -> usize {
    let mut records: Vec<usize> = errors.iter().map(|e| e.record).collect();
    records.sort_unstable();
    records.dedup();
    records.len()
}

impl HubError {
    pub fn status(&self) -> StatusCode {
        match self {
            HubError::MalformedJson(_) | HubError::InvalidBody(_) | HubError::BadQuery(_) => {
                StatusCode::BAD_REQUEST
            }
            HubError::InvalidRecords(_) => StatusCode::UNPROCESSABLE_ENTITY,
            HubError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            HubError::CursorAhead { .. } => StatusCode::CONFLICT,
            HubError::CursorCompacted { .. } => StatusCode::GONE,
            HubError::UnknownProject(_)
            | HubError::NoSuchEndpoint(_)
            | HubError::NoSuchQuarantine(_)
            | HubError::NothingImported
            | HubError::AlertsOff
            | HubError::UnknownDocument(_) => StatusCode::NOT_FOUND,
            HubError::KeyConflict(_) | HubError::FileMismatch(_) => StatusCode::CONFLICT,
            HubError::UnknownCounter(_) | HubError::BadSignature(_) => StatusCode::FORBIDDEN,
            HubError::UnreadableFile(_) => StatusCode::UNPROCESSABLE_ENTITY,
            HubError::QuarantineClosed(_) => StatusCode::CONFLICT,
            HubError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            HubError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            HubError::UnknownHost(_) => StatusCode::MISDIRECTED_REQUEST,
            HubError::PushAuth(e) => e.status(),
            HubError::Auth(e) => auth_status(e),
            HubError::Admin(e) => match e {
                AdminError::AccountTaken(_) | AdminError::AlreadyInitialised => StatusCode::CONFLICT,
                AdminError::NoSuchAccount(_) | AdminError::NoSuchRole(_) | AdminError::NoSuchSession => {
                    StatusCode::NOT_FOUND
                }
                AdminError::Field(_) | AdminError::Role(_) | AdminError::Policy(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AdminError::Grant(_) | AdminError::OwnAccount => StatusCode::FORBIDDEN,
                AdminError::Auth(e) => auth_status(e),
                AdminError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            HubError::Device(e) => e.status(),
            HubError::Undeclared(_) => StatusCode::INTERNAL_SERVER_ERROR,
            HubError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            HubError::MalformedJson(_) => "malformed_json",
            HubError::InvalidBody(_) => "invalid_body",
            HubError::InvalidRecords(_) => "invalid_record",
            HubError::BodyTooLarge { .. } => "body_too_large",
            HubError::BadQuery(_) => "bad_query",
            HubError::CursorAhead { .. } => "cursor_ahead",
            HubError::CursorCompacted { .. } => "cursor_compacted",
            HubError::UnknownProject(_) => "unknown_project",
            HubError::NoSuchEndpoint(_) => "not_found",
            HubError::MethodNotAllowed(_) => "method_not_allowed",
            HubError::UnsupportedMediaType { .. } => "unsupported_media_type",
            HubError::UnknownHost(_) => "unknown_host",
            HubError::UnreadableFile(_) => "unreadable_file",
            HubError::NoSuchQuarantine(_) => "no_such_quarantine",
            HubError::NothingImported => "nothing_imported",
            HubError::AlertsOff => "alerts_off",
            HubError::QuarantineClosed(_) => "quarantine_closed",
            HubError::PushAuth(e) => e.code(),
            HubError::KeyConflict(_) => "key_conflict",
            HubError::UnknownDocument(_) => "unknown_document",
            HubError::FileMismatch(_) => "file_mismatch",
            HubError::UnknownCounter(_) => "unknown_counter",
            HubError::BadSignature(_) => "bad_signature",
            HubError::Auth(e) => auth_code(e),
            HubError::Admin(e) => match e {
                AdminError::AccountTaken(_) => "account_taken",
                AdminError::NoSuchAccount(_) => "no_such_account",
                AdminError::NoSuchRole(_) => "no_such_role",
                AdminError::NoSuchSession => "no_such_session",
                AdminError::Field(_) => "invalid_field",
                AdminError::Role(_) => "invalid_role",
                AdminError::Grant(_) => "grant_refused",
                AdminError::Policy(_) => "invalid_policy",
                AdminError::AlreadyInitialised => "already_initialised",
                AdminError::OwnAccount => "own_account",
                AdminError::Auth(e) => auth_code(e),
                AdminError::Store(_) => "internal",
            },
            HubError::Device(e) => e.code(),
            HubError::Undeclared(_) => "undeclared_route",
            HubError::Store(_) => "internal",
        }
    }

    /// The body: what happened, then what to do about it.
    pub fn to_api_error(&self) -> ApiError {
        let advice = match self {
            HubError::MalformedJson(_) | HubError::InvalidBody(_) => {
                "请按接口文档（docs/api.md）中该接口的请求体格式更正上述字段后重试。"
            }
            HubError::InvalidRecords(_) => {
                "整批未写入：请按 errors 中列出的记录和字段更正后重新发送整批。"
            }
            HubError::BodyTooLarge { .. } => "请把记录拆成较小的批次分别发送。",
            HubError::BadQuery(_) => "请按接口文档更正查询参数。",
            HubError::CursorAhead { .. } => {
                "该客户端的数据不是来自本数据中心或数据中心已重建：请重新获取快照（/v1/snapshot）。"
            }
            HubError::CursorCompacted { .. } => "请重新获取快照（/v1/snapshot），再从快照的序号继续。",
            HubError::UnknownProject(_) => "请检查项目代码，或等待该项目的规划审批数据到达。",
            HubError::NoSuchEndpoint(_) | HubError::MethodNotAllowed(_) => {
                "请对照接口文档检查地址和方法。"
            }
            HubError::UnsupportedMediaType { .. } => "请在请求头 Content-Type 中写明该接口的请求体类型（docs/api.md）。",
            HubError::UnknownHost(_) => "请使用系统管理员给出的数据中心地址。",
            HubError::UnreadableFile(_) => "文件中的数据均未导入：请按提示更正文件后重新导入。",
            HubError::NoSuchQuarantine(_) | HubError::QuarantineClosed(_) => "请刷新隔离区列表。",
            HubError::NothingImported => "请先导入规划审批文件（/v1/imports/planning 或导入文件夹）。",
            HubError::AlertsOff => "本数据中心未启用预警评估。",
            HubError::PushAuth(e) => e.advice(),
            HubError::KeyConflict(_) => "重装的终端请使用新的数据目录（即新的终端编号）重新登记；如非本单位操作请立即报告。",
            HubError::UnknownDocument(_) => "请核对票据号码；离线开具的票据在终端联网上传后才可查到。",
            HubError::FileMismatch(_) => "请上传开具或补打时生成的原始 PDF 文件。",
            HubError::UnknownCounter(_) => "终端须先以系统管理员给出的登记码登记（/v1/devices/enrol）再上传。",
            HubError::BadSignature(_) => "请由终端按原样重新发送；如非本单位终端所发，请立即报告。",
            HubError::Auth(e) => match e {
                SignInError::NoSession | SignInError::SessionEnded(_) => "请重新登录。",
                SignInError::LoginFailed => "请核对账号和密码后重试；多次失败后账号将被暂时锁定，可请安全管理员解锁。",
                SignInError::Throttled => "请稍后再试，或联系系统管理员。",
                SignInError::SecondFactorNeeded => "请输入动态口令（或一个恢复码）后重试。",
                SignInError::PasswordChangeRequired => "请先修改密码（/v1/auth/password）。",
                SignInError::SecondFactorEnrolmentRequired => "请先绑定动态口令（/v1/auth/second-factor）。",
                SignInError::Forbidden(_) => "如确需此操作，请联系安全管理员授予相应角色。",
                SignInError::WrongPassword => "请输入正确的当前密码。",
                SignInError::PasswordRejected(_) => "请按密码策略另设一个密码。",
                SignInError::WrongCode => "请输入验证器当前显示的动态口令。",
                SignInError::Store(_) => "数据中心内部错误，请稍后重试；如持续出现请联系技术人员。",
            },
            HubError::Admin(AdminError::Store(_)) | HubError::Undeclared(_) => {
                "数据中心内部错误，请稍后重试；如持续出现请联系技术人员。"
            }
            HubError::Admin(_) => "请按提示更正后重试。",
            HubError::Device(e) => e.advice(),
            HubError::Store(_) => "数据中心内部错误，请稍后重试；如持续出现请联系技术人员。",
        };
        let errors = match self {
            HubError::InvalidRecords(errors) => errors.clone(),
            HubError::Admin(AdminError::Field(problem)) => vec![FieldError {
                record: 0,
                source_id: None,
                field: problem.field.to_owned(),
                problem: problem.problem.clone(),
            }],
            HubError::Admin(AdminError::Policy(problem)) => vec![FieldError {
                record: 0,
                source_id: None,
                field: problem.field.to_owned(),
                problem: problem.problem.clone(),
            }],
            HubError::Device(crate::devices::DeviceError::Field { field, problem }) => vec![FieldError {
                record: 0,
                source_id: None,
                field: (*field).to_owned(),
                problem: problem.clone(),
            }],
            HubError::Auth(SignInError::PasswordRejected(problem)) => vec![FieldError {
                record: 0,
                source_id: None,
                field: "new_password".to_owned(),
                problem: problem.to_string(),
            }],
            _ => Vec::new(),
        };
        ApiError {
            code: self.code().to_owned(),
            message: format!("{self}。{advice}"),
            errors,
        }
    }
}

fn auth_status(e: &SignInError) -> StatusCode {
    match e {
        SignInError::NoSession
        | SignInError::SessionEnded(_)
        | SignInError::LoginFailed
        | SignInError::SecondFactorNeeded
        | SignInError::WrongCode => StatusCode::UNAUTHORIZED,
        SignInError::Throttled => StatusCode::TOO_MANY_REQUESTS,
        SignInError::PasswordChangeRequired
        | SignInError::SecondFactorEnrolmentRequired
        | SignInError::Forbidden(_)
        | SignInError::WrongPassword => StatusCode::FORBIDDEN,
        SignInError::PasswordRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
        SignInError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn auth_code(e: &SignInError) -> &'static str {
    match e {
        SignInError::NoSession => "unauthenticated",
        SignInError::SessionEnded(_) => "session_ended",
        SignInError::LoginFailed => "login_failed",
        SignInError::Throttled => "too_many_attempts",
        SignInError::SecondFactorNeeded => "second_factor_needed",
        SignInError::PasswordChangeRequired => "password_change_required",
        SignInError::SecondFactorEnrolmentRequired => "second_factor_enrolment_required",
        SignInError::Forbidden(_) => "forbidden",
        SignInError::WrongPassword => "wrong_password",
        SignInError::PasswordRejected(_) => "password_rejected",
        SignInError::WrongCode => "wrong_code",
        SignInError::Store(_) => "internal",
    }
}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "请求失败");
        } else {
            tracing::debug!(code = self.code(), error = %self, "请求被拒绝");
        }
        (status, axum::Json(self.to_api_error())).into_response()
    }
}
