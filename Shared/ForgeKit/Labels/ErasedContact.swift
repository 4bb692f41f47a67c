/// What an erased person is called wherever their name stood (DESIGN §8, ContactErased):
/// accounts writes it into the contact and the activities that named them; the gateway into
/// the webhook deliveries that carried them.
public enum ErasedContact {
    public static let name = "[已删除联系人]"
}
