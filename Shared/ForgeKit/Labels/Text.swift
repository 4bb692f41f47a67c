import ForgeWire

/// Text for people in the language of the request being served (`TextLanguage.current`):
/// `L("客户", "Accounts")`. Both are written side by side where the text is, so a reader sees
/// at once what a page or an explanation says in either language.
public func L(_ zh: @autoclosure () -> String, _ en: @autoclosure () -> String) -> String {
    TextLanguage.current == .en ? en() : zh()
}

/// Text kept in a database (an activity's subject, a lead's score reasons, what a member still
/// needs) is written in the organisation's language, Chinese, whoever's request wrote it: the
/// colleagues who read it later have their own pages and languages, and an English caller's
/// words would otherwise sit in Chinese records for good.
public func storedText<T>(_ text: () throws -> T) rethrows -> T {
    try TextLanguage.$current.withValue(.zh, operation: text)
}
