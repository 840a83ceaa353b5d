//! Realistic people for demo data of every backend: first and last names and the email addresses
//! people derive from them.

use std::collections::HashSet;

use super::prng::Prng;

pub const FIRST_NAMES: &[&str] = &[
    "Aaliyah",
    "Adrian",
    "Aisha",
    "Alejandro",
    "Alice",
    "Amara",
    "Andre",
    "Anika",
    "Ben",
    "Bianca",
    "Caleb",
    "Camila",
    "Chloe",
    "Daniel",
    "Darius",
    "Diego",
    "Elena",
    "Eli",
    "Emma",
    "Ethan",
    "Fatima",
    "Felix",
    "Grace",
    "Hana",
    "Hannah",
    "Isaac",
    "Isabella",
    "Jamal",
    "Jasmine",
    "Jonah",
    "Julia",
    "Kai",
    "Kenji",
    "Leah",
    "Liam",
    "Lucas",
    "Maya",
    "Mei",
    "Mohammed",
    "Nadia",
    "Naomi",
    "Noah",
    "Olivia",
    "Omar",
    "Priya",
    "Quinn",
    "Rafael",
    "Riley",
    "Rosa",
    "Ryan",
    "Samuel",
    "Sofia",
    "Tariq",
    "Theo",
    "Uma",
    "Valentina",
    "Wei",
    "Xavier",
    "Yara",
    "Zoe",
];

pub const LAST_NAMES: &[&str] = &[
    "Abara",
    "Ali",
    "Andersen",
    "Baker",
    "Bennett",
    "Brooks",
    "Castillo",
    "Chen",
    "Clarke",
    "Cohen",
    "Delgado",
    "Diaz",
    "Dubois",
    "Evans",
    "Fernandez",
    "Fischer",
    "Garcia",
    "Gupta",
    "Haddad",
    "Hughes",
    "Ibrahim",
    "Jackson",
    "Johnson",
    "Kim",
    "Kowalski",
    "Kumar",
    "Lee",
    "Lopez",
    "Martin",
    "Mensah",
    "Morales",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "O'Brien",
    "Patel",
    "Petrov",
    "Reyes",
    "Rossi",
    "Santos",
    "Schmidt",
    "Sharma",
    "Silva",
    "Singh",
    "Smith",
    "Sullivan",
    "Tanaka",
    "Thompson",
    "Torres",
    "Van der Berg",
    "Walker",
    "Wang",
    "Williams",
    "Wilson",
    "Yamamoto",
    "Young",
    "Zhang",
];

/// Mailbox providers people sign up with.
pub const MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "gmail.com",
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "hotmail.com",
    "proton.me",
];

/// A mailbox name the way people pick one: `maya.chen`, `mchen`, `maya_chen07`, `chen.maya`.
pub fn mailbox(first: &str, last: &str, rng: &mut Prng) -> String {
    let first = plain(first);
    let last = plain(last);
    let initial = first.chars().next().unwrap_or('x');
    match rng.below(6) {
        0 | 1 => format!("{first}.{last}"),
        2 => format!("{initial}{last}"),
        3 => format!("{first}_{last}{:02}", rng.below(100)),
        4 => format!("{last}.{first}"),
        _ => format!("{first}{last}{}", 1990 + rng.below(18)),
    }
}

/// `mailbox@domain`, numbered (`maya.chen2@...`) when `taken` (lowercased addresses) already has
/// it; the result is added to `taken`.
pub fn unique_email(taken: &mut HashSet<String>, mailbox: &str, domain: &str) -> String {
    let mut email = format!("{mailbox}@{domain}");
    let mut n = 2;
    while !taken.insert(email.to_lowercase()) {
        email = format!("{mailbox}{n}@{domain}");
        n += 1;
    }
    email
}

/// Lowercase ASCII letters only: `O'Brien` → `obrien`, `Van der Berg` → `vanderberg`.
pub fn plain(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keeps_only_lowercase_letters() {
        assert_eq!(plain("O'Brien"), "obrien");
        assert_eq!(plain("Van der Berg"), "vanderberg");
    }

    #[test]
    fn unique_emails_are_numbered_ignoring_case() {
        let mut taken = HashSet::from(["ann@x.org".to_owned()]);
        assert_eq!(unique_email(&mut taken, "Ann", "x.org"), "Ann2@x.org");
        assert_eq!(unique_email(&mut taken, "ann", "x.org"), "ann3@x.org");
        assert_eq!(unique_email(&mut taken, "bo", "x.org"), "bo@x.org");
    }

    #[test]
    fn mailboxes_are_valid_local_parts_built_from_the_name() {
        let mut rng = Prng::new(11);
        for _ in 0..50 {
            let mailbox = mailbox("Maya", "O'Brien", &mut rng);
            assert!(mailbox.contains("obrien"), "{mailbox}");
            assert!(
                mailbox
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
            );
        }
    }
}
