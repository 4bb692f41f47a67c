import ForgeKit

// forge-orders: its domain RPCs arrive with their own issue; today it serves the kit's standard
// services (Health, EventFeed, Jobs) over the wire protocol and the admin port.
ForgeService.main(name: "orders")
