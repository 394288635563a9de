//! What an inbound message is: an opt-out, an opt-in, a request for help, or an actual reply.

/// How an inbound message is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    OptOut,
    OptIn,
    Help,
    /// Anything else: an actual reply.
    Unknown,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::OptOut => "opt_out",
            Class::OptIn => "opt_in",
            Class::Help => "help",
            Class::Unknown => "unknown",
        }
    }
}

/// The whole message (trimmed, any case) is one of these to opt out (Twilio's and the carriers'
/// standard keywords).
pub const OPT_OUT: [&str; 8] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"];
/// …to opt back in (the account may add its own keywords).
pub const OPT_IN: [&str; 3] = ["START", "YES", "UNSTOP"];
/// …to ask for help.
pub const HELP: [&str; 2] = ["HELP", "INFO"];

/// Classifies a message. Twilio's `OptOutType` (`STOP`, `START`, `HELP`; sent when Advanced
/// Opt-Out handled the message), when present, wins over the text; otherwise the whole message,
/// trimmed and in any case, must be a keyword ("STOP PLEASE" is an actual reply).
pub fn classify(body: &str, opt_out_type: Option<&str>, account_opt_in: &[String]) -> Class {
    match opt_out_type.map(|t| t.trim().to_ascii_uppercase()).as_deref() {
        Some("STOP") => return Class::OptOut,
        Some("START") => return Class::OptIn,
        Some("HELP") => return Class::Help,
        _ => {}
    }
    let word = body.trim().to_uppercase();
    if OPT_OUT.contains(&word.as_str()) {
        Class::OptOut
    } else if OPT_IN.contains(&word.as_str()) || account_opt_in.iter().any(|k| k.trim().to_uppercase() == word) {
        Class::OptIn
    } else if HELP.contains(&word.as_str()) {
        Class::Help
    } else {
        Class::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_message_keywords_in_any_case_and_spacing() {
        let none: Vec<String> = vec![];
        for (text, class) in [
            ("STOP", Class::OptOut),
            ("stop", Class::OptOut),
            ("  Stop \n", Class::OptOut),
            ("StopAll", Class::OptOut),
            ("unsubscribe", Class::OptOut),
            ("cancel", Class::OptOut),
            ("END", Class::OptOut),
            ("quit", Class::OptOut),
            ("revoke", Class::OptOut),
            ("OPTOUT", Class::OptOut),
            ("STOP PLEASE", Class::Unknown),
            ("please stop", Class::Unknown),
            ("START", Class::OptIn),
            (" yes ", Class::OptIn),
            ("Unstop", Class::OptIn),
            ("help", Class::Help),
            ("INFO", Class::Help),
            ("HELP ME", Class::Unknown),
            ("Thanks, see you at 5", Class::Unknown),
            ("", Class::Unknown),
        ] {
            assert_eq!(classify(text, None, &none), class, "{text:?}");
        }
    }

    #[test]
    fn twilios_opt_out_type_wins_and_the_accounts_keywords_opt_in() {
        let mine = vec!["Join".to_string()];
        assert_eq!(classify("join", None, &mine), Class::OptIn);
        assert_eq!(classify("JOIN NOW", None, &mine), Class::Unknown);
        assert_eq!(classify("arret", Some("STOP"), &mine), Class::OptOut);
        assert_eq!(classify("STOP", Some("START"), &mine), Class::OptIn);
        assert_eq!(classify("hello", Some("help"), &mine), Class::Help);
        assert_eq!(classify("STOP", Some(""), &mine), Class::OptOut, "an empty OptOutType says nothing");
    }
}
