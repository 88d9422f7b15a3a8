//! Value rules for identities: email normalization, password policy, display names.

/// Minimum password length (see docs/identity.md).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Maximum password length, to bound hashing work.
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Normalizes an email (trim, lowercase) and checks its shape; `Err` says what is wrong.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.len() > 320 {
        return Err("must be at most 320 characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("must be an email address");
    };
    let valid_domain = !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !domain.contains("..");
    if local.is_empty()
        || !valid_domain
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("must be an email address");
    }
    Ok(email)
}

/// Checks the password policy; `Err` says what is wrong.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err("must be at least 12 characters");
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err("must be at most 1024 characters");
    }
    Ok(())
}

/// Trims a display name and checks it is 1–200 characters without control characters.
pub fn normalize_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("must not be empty");
    }
    if name.chars().count() > 200 {
        return Err("must be at most 200 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let cases = [
            (" Alice@Example.COM ", Ok("alice@example.com")),
            ("bob@example", Ok("bob@example")),
            ("no-at-sign", Err(())),
            ("@example.com", Err(())),
            ("a@", Err(())),
            ("a@@b.com", Err(())),
            ("a b@c.com", Err(())),
            ("a@b..com", Err(())),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                normalize_email(raw).map_err(|_| ()),
                expected.map(str::to_owned),
                "{raw}"
            );
        }
    }

    #[test]
    fn passwords() {
        assert!(check_password("short").is_err());
        assert!(check_password("elevenchars").is_err());
        assert!(check_password("twelve chars").is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(normalize_name("  Acme AI  ").as_deref(), Ok("Acme AI"));
        assert!(normalize_name("   ").is_err());
        assert!(normalize_name("a\u{7}b").is_err());
        assert!(normalize_name(&"n".repeat(201)).is_err());
    }
}
