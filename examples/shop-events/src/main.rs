tidings_events::registry_main!(shop_events);
