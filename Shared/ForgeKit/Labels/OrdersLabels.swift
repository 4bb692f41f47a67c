import ForgeContracts

/// The words people read for orders' enums, in the language of the request (`L`): the orders
/// service writes them into task titles and errors, the gateway onto its pages and the
/// customer notifications.
public enum OrdersLabels {
    public static func status(_ status: Forge_Orders_V1_OrderStatus) -> String {
        switch status {
        case .draft: L("草稿", "Draft")
        case .creditHold: L("信用冻结", "Credit hold")
        case .approved: L("已审批", "Approved")
        case .released: L("已下达ERP", "Released to ERP")
        case .delivered: L("已交付", "Delivered")
        case .completed: L("已完成", "Completed")
        case .cancelled: L("已取消", "Cancelled")
        case .unspecified, .UNRECOGNIZED: L("未知", "Unknown")
        }
    }

    public static func production(_ status: Forge_Orders_V1_ProductionStatus) -> String {
        switch status {
        case .scheduled: L("已排产", "Scheduled")
        case .materialReady: L("备料完成", "Material ready")
        case .inProduction: L("生产中", "In production")
        case .qualityInspection: L("质检中", "Quality inspection")
        case .packed: L("已包装待发货", "Packed, awaiting shipment")
        case .shipped: L("已发货", "Shipped")
        case .delivered: L("已签收", "Signed for")
        case .unspecified, .UNRECOGNIZED: L("未开始", "Not started")
        }
    }

    public static func trigger(_ trigger: Forge_Orders_V1_DueTrigger) -> String {
        switch trigger {
        case .onApproval: L("订单审批后", "On order approval")
        case .beforeShipment: L("发货前", "Before shipment")
        case .onDelivery: L("交付后", "On delivery")
        case .unspecified, .UNRECOGNIZED: L("未定", "Not set")
        }
    }
}
