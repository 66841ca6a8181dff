//! 项目代码: the investment project code, `2019-320105-47-01-123456`, treated as opaque
//! once its shape is right.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectCodeError {
    #[error("项目代码不能为空")]
    Empty,
    #[error("项目代码格式应为 YYYY-XXXXXX-XX-XX-XXXXXX（如 2019-320105-47-01-123456），第{position}位不符合")]
    Shape { position: usize },
}

pub fn check_project_code(code: &str) -> Result<(), ProjectCodeError> {
    todo!("{code}")
}
