/// The `format` values we enforce, as whole-string regexes over the decoded string.
///
/// Each is the RFC grammar or a strict subset of it: a value outside the subset is rejected, never an
/// invalid value accepted. Subsets: `time` accepts a leap second only as `23:59:60` in UTC (`Z`);
/// `email` accepts dot-atom local parts and host names (no quoted local parts or address literals);
/// `uri` requires a scheme and excludes IP-literal hosts.
enum JSONFormats {
    private static let leapYear = #"(\d\d(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)"#
    static let date = #"(\d{4}-(0[13578]|1[02])-(0[1-9]|[12]\d|3[01])|\d{4}-(0[469]|11)-(0[1-9]|[12]\d|30)|\d{4}-02-(0[1-9]|1\d|2[0-8])|"#
        + leapYear + "-02-29)"
    private static let offset = #"([zZ]|[+-]([01]\d|2[0-3]):[0-5]\d)"#
    static let time = #"(([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"# + offset + #"|23:59:60(\.\d+)?[zZ])"#
    static let dateTime = date + "[Tt]" + time
    private static let atext = #"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"#
    private static let label = #"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"#
    static let email = atext + "+(\\." + atext + "+)*@" + label + "(\\." + label + ")*"
    static let uuid = #"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"#
    private static let octet = #"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"#
    static let ipv4 = octet + "(\\." + octet + "){3}"
    private static let h16 = "[0-9a-fA-F]{1,4}"
    private static let ls32 = "(" + h16 + ":" + h16 + "|" + ipv4 + ")"
    /// RFC 3986 §3.2.2 IPv6address, its nine alternatives.
    static let ipv6 = "(" + [
        "(" + h16 + ":){6}" + ls32,
        "::(" + h16 + ":){5}" + ls32,
        "(" + h16 + ")?::(" + h16 + ":){4}" + ls32,
        "((" + h16 + ":){0,1}" + h16 + ")?::(" + h16 + ":){3}" + ls32,
        "((" + h16 + ":){0,2}" + h16 + ")?::(" + h16 + ":){2}" + ls32,
        "((" + h16 + ":){0,3}" + h16 + ")?::" + h16 + ":" + ls32,
        "((" + h16 + ":){0,4}" + h16 + ")?::" + ls32,
        "((" + h16 + ":){0,5}" + h16 + ")?::" + h16,
        "((" + h16 + ":){0,6}" + h16 + ")?::",
    ].joined(separator: "|") + ")"
    private static let pct = "%[0-9A-Fa-f]{2}"
    private static let unreservedSub = #"[A-Za-z0-9\-._~!$&'()*+,;=]"#
    private static let pchar = "(" + unreservedSub + "|" + pct + "|[:@])"
    static let uri = #"[A-Za-z][A-Za-z0-9+.\-]*:"#
        + "(//((" + unreservedSub + "|" + pct + "|:)*@)?(" + unreservedSub + "|" + pct + ")*(:\\d*)?(/" + pchar + "*)*"
        + "|(/?" + pchar + "+(/" + pchar + "*)*)?)"
        + "(\\?(" + pchar + "|[/?])*)?(#(" + pchar + "|[/?])*)?"

    /// The regex for a format name, if we enforce it.
    static func pattern(for name: String) -> String? {
        switch name {
        case "date-time": return dateTime
        case "date": return date
        case "time": return time
        case "email": return email
        case "uuid": return uuid
        case "uri": return uri
        case "ipv4": return ipv4
        case "ipv6": return ipv6
        default: return nil
        }
    }
}
