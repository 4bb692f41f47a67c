import ForgeContracts

/// The words people read for orders' enums: the orders service writes them into task titles
/// and errors, the gateway onto its pages and the customer notifications.
public enum OrdersLabels {
    public static func status(_ status: Forge_Orders_V1_OrderStatus) -> String {
        switch status {
        case .draft: "草稿"
        case .creditHold: "信用冻结"
        case .approved: "已审批"
        case .released: "已下达ERP"
        case .delivered: "已交付"
        case .completed: "已完成"
        case .cancelled: "已取消"
        case .unspecified, .UNRECOGNIZED: "未知"
        }
    }

    public static func production(_ status: Forge_Orders_V1_ProductionStatus) -> String {
        switch status {
        case .scheduled: "已排产"
        case .materialReady: "备料完成"
        case .inProduction: "生产中"
        case .qualityInspection: "质检中"
        case .packed: "已包装待发货"
        case .shipped: "已发货"
        case .delivered: "已签收"
        case .unspecified, .UNRECOGNIZED: "未开始"
        }
    }

    public static func trigger(_ trigger: Forge_Orders_V1_DueTrigger) -> String {
        switch trigger {
        case .onApproval: "订单审批后"
        case .beforeShipment: "发货前"
        case .onDelivery: "交付后"
        case .unspecified, .UNRECOGNIZED: "未定"
        }
    }
}
