//! Nanjing's eleven districts (GB/T 2260), the unit the window's work is split by.

pub const NANJING_DISTRICTS: [(&str, &str); 11] = [
    ("320102", "玄武区"),
    ("320104", "秦淮区"),
    ("320105", "建邺区"),
    ("320106", "鼓楼区"),
    ("320111", "浦口区"),
    ("320113", "栖霞区"),
    ("320114", "雨花台区"),
    ("320115", "江宁区"),
    ("320116", "六合区"),
    ("320117", "溧水区"),
    ("320118", "高淳区"),
];

pub fn district_name(code: &str) -> Option<&'static str> {
    NANJING_DISTRICTS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_every_district_and_nothing_else() {
        assert_eq!(district_name("320115"), Some("江宁区"));
        assert_eq!(district_name("320100"), None);
        assert_eq!(district_name("110101"), None);
    }
}
