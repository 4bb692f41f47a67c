import ForgeWire

/// Text for people in the language of the request being served (`TextLanguage.current`):
/// `L("客户", "Accounts")`. Both are written side by side where the text is, so a reader sees
/// at once what a page or an explanation says in either language.
public func L(_ zh: @autoclosure () -> String, _ en: @autoclosure () -> String) -> String {
    TextLanguage.current == .en ? en() : zh()
}
