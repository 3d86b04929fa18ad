//! SNS subscription filter policies: AWS's documented examples and every operator, in both
//! scopes, as tables of (policy, message, expected match); then invalid policies with the
//! exact `InvalidParameter` message each one gets.

use std::collections::BTreeMap;

use engine::sns::filter_policy::{FilterPolicy, FilterPolicyError, FilterPolicyScope};

/// Message attributes as (name, data type, string value).
type Attributes = &'static [(&'static str, &'static str, &'static str)];

/// The message attributes of AWS's filtering examples.
const EXAMPLE_ATTRIBUTES: Attributes = &[
    (
        "customer_interests",
        "String.Array",
        r#"["soccer", "rugby", "hockey"]"#,
    ),
    ("store", "String", "example_corp"),
    ("event", "String", "order_placed"),
    ("price_usd", "Number", "210.75"),
];

/// The same example as a message body.
const EXAMPLE_BODY: &str = r#"{
    "store": "example_corp",
    "event": "order_placed",
    "customer_interests": ["soccer", "rugby", "hockey"],
    "price_usd": 210.75
}"#;

fn attributes(list: &[(&str, &str, &str)]) -> BTreeMap<String, (String, String)> {
    list.iter()
        .map(|(name, data_type, value)| {
            (name.to_string(), (data_type.to_string(), value.to_string()))
        })
        .collect()
}

#[test]
fn attribute_policies_match_as_aws_documents() -> Result<(), FilterPolicyError> {
    // (policy, attributes, expected)
    let cases: &[(&str, Attributes, bool)] = &[
        // AWS's example policy: every key must match.
        (
            r#"{"store":["example_corp"],"event":[{"anything-but":"order_cancelled"}],
                "customer_interests":["rugby","football","baseball"],
                "price_usd":[{"numeric":[">=",100]}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (r#"{}"#, EXAMPLE_ATTRIBUTES, true),
        (r#"{}"#, &[], true),
        // Exact strings: OR inside the array, AND across keys, case-sensitive.
        (r#"{"store":["example_corp"]}"#, EXAMPLE_ATTRIBUTES, true),
        (r#"{"store":["Example_Corp"]}"#, EXAMPLE_ATTRIBUTES, false),
        (
            r#"{"store":["other","example_corp"]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"store":["example_corp"],"event":["order_cancelled"]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (r#"{"missing":["x"]}"#, EXAMPLE_ATTRIBUTES, false),
        // String.Array: each element considered separately.
        (
            r#"{"customer_interests":["rugby"]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"customer_interests":["tennis"]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"customer_interests":[{"prefix":"hoc"}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"customer_interests":[{"anything-but":["rugby","tennis"]}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"customer_interests":[{"anything-but":["soccer","rugby","hockey"]}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"scores":[7]}"#,
            &[("scores", "String.Array", "[1, 7.0, \"x\"]")],
            true,
        ),
        // Numbers compare by value, with five decimals of accuracy.
        (r#"{"price_usd":[210.75]}"#, EXAMPLE_ATTRIBUTES, true),
        (
            r#"{"price":[301.5]}"#,
            &[("price", "Number", "301.50")],
            true,
        ),
        (
            r#"{"price":[301.5]}"#,
            &[("price", "Number", "3.015E2")],
            true,
        ),
        (
            r#"{"price":[301.5]}"#,
            &[("price", "Number", "301.51")],
            false,
        ),
        (r#"{"price":[5]}"#, &[("price", "Number", "5.000001")], true),
        (r#"{"price":[5]}"#, &[("price", "String", "5")], false),
        (
            r#"{"price":["301.50"]}"#,
            &[("price", "Number", "301.50")],
            true,
        ),
        // numeric
        (
            r#"{"price_usd":[{"numeric":[">",210]}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"price_usd":[{"numeric":["<",210]}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"price_usd":[{"numeric":["=",210.75]}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"price_usd":[{"numeric":["<=",210.75]}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"price_usd":[{"numeric":[">=",210.76]}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"price_usd":[{"numeric":[">",0,"<=",150]}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"price_usd":[{"numeric":[">=",200,"<",300]}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"store":[{"numeric":[">",0]}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        // prefix / suffix / equals-ignore-case
        (
            r#"{"store":[{"prefix":"example"}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"store":[{"prefix":"corp"}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"store":[{"suffix":"_corp"}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"store":[{"suffix":"example"}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"store":[{"equals-ignore-case":"EXAMPLE_Corp"}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"store":[{"equals-ignore-case":"example"}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        // anything-but: list, single value, number, prefix/suffix/equals-ignore-case forms.
        (
            r#"{"event":[{"anything-but":["order_cancelled","order_returned"]}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"event":[{"anything-but":"order_placed"}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"price_usd":[{"anything-but":100}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"price_usd":[{"anything-but":[210.75]}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"event":[{"anything-but":{"prefix":"order-"}}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"event":[{"anything-but":{"prefix":"order_"}}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"event":[{"anything-but":{"suffix":"_placed"}}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"event":[{"anything-but":{"equals-ignore-case":["ORDER_PLACED"]}}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"event":[{"anything-but":{"equals-ignore-case":"order_x"}}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        // anything-but never matches a missing attribute.
        (
            r#"{"missing":[{"anything-but":"x"}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        // exists
        (r#"{"store":[{"exists":true}]}"#, EXAMPLE_ATTRIBUTES, true),
        (r#"{"store":[{"exists":false}]}"#, EXAMPLE_ATTRIBUTES, false),
        (
            r#"{"encrypted":[{"exists":false}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"encrypted":[{"exists":true}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        // Binary attributes are not compared: they count as absent.
        (
            r#"{"blob":[{"exists":true}]}"#,
            &[("blob", "Binary", "AAEC")],
            false,
        ),
        (r#"{"blob":["AAEC"]}"#, &[("blob", "Binary", "AAEC")], false),
        // cidr
        (
            r#"{"source_ip":[{"cidr":"10.0.0.0/24"}]}"#,
            &[("source_ip", "String", "10.0.0.255")],
            true,
        ),
        (
            r#"{"source_ip":[{"cidr":"10.0.0.0/24"}]}"#,
            &[("source_ip", "String", "10.0.1.0")],
            false,
        ),
        (
            r#"{"source_ip":[{"cidr":"2001:db8::/32"}]}"#,
            &[("source_ip", "String", "2001:db8:1::7")],
            true,
        ),
        (
            r#"{"source_ip":[{"cidr":"2001:db8::/32"}]}"#,
            &[("source_ip", "String", "2001:db9::1")],
            false,
        ),
        (
            r#"{"source_ip":[{"cidr":"10.0.0.0/8"}]}"#,
            &[("source_ip", "String", "not-an-ip")],
            false,
        ),
        // $or
        (
            r#"{"store":["example_corp"],"$or":[{"event":["order_cancelled"]},{"price_usd":[{"numeric":[">",100]}]}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
        (
            r#"{"$or":[{"event":["order_cancelled"]},{"store":["other"]}]}"#,
            EXAMPLE_ATTRIBUTES,
            false,
        ),
        (
            r#"{"$or":[{"store":["x"]},{"$or":[{"event":["y"]},{"customer_interests":["rugby"]}]}]}"#,
            EXAMPLE_ATTRIBUTES,
            true,
        ),
    ];
    let mut failures = Vec::new();
    for (policy_json, message, expected) in cases {
        let policy = FilterPolicy::parse(policy_json, FilterPolicyScope::MessageAttributes)?;
        if policy.matches_attributes(&attributes(message)) != *expected {
            failures.push(format!("{policy_json} on {message:?}: expected {expected}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(cases.len() >= 55);
    Ok(())
}

#[test]
fn body_policies_match_as_aws_documents() -> Result<(), FilterPolicyError> {
    const NESTED: &str = r#"{
        "store": {"name": "example_corp", "location": {"city": "Seattle", "zip": 98101}},
        "orders": [{"item": "book", "qty": 2}, {"item": "pen", "qty": 10}],
        "tags": [["a", "b"], ["c"]],
        "coupon": null,
        "gift": false,
        "client": {"ip": "192.168.4.20"}
    }"#;
    // (policy, body, expected)
    let cases: &[(&str, &str, bool)] = &[
        (
            r#"{"store":["example_corp"],"event":[{"anything-but":"order_cancelled"}],
                "customer_interests":["rugby","football","baseball"],
                "price_usd":[{"numeric":[">=",100]}]}"#,
            EXAMPLE_BODY,
            true,
        ),
        (r#"{}"#, "not json", true),
        (r#"{"store":["example_corp"]}"#, EXAMPLE_BODY, true),
        (r#"{"store":["example_corp"]}"#, "example_corp", false),
        (r#"{"store":[{"exists":false}]}"#, "not json", false),
        (
            r#"{"store":["example_corp"]}"#,
            r#"["example_corp"]"#,
            false,
        ),
        (r#"{"customer_interests":["hockey"]}"#, EXAMPLE_BODY, true),
        (r#"{"customer_interests":["golf"]}"#, EXAMPLE_BODY, false),
        (r#"{"price_usd":[210.75]}"#, EXAMPLE_BODY, true),
        (
            r#"{"price_usd":[{"numeric":["<",200]}]}"#,
            EXAMPLE_BODY,
            false,
        ),
        (
            r#"{"price_usd":[{"numeric":[">",200,"<=",210.75]}]}"#,
            EXAMPLE_BODY,
            true,
        ),
        (r#"{"price_usd":["210.75"]}"#, EXAMPLE_BODY, false),
        (r#"{"price":[301.5]}"#, r#"{"price":301.50}"#, true),
        // Nested keys by path.
        (r#"{"store":{"name":["example_corp"]}}"#, NESTED, true),
        (r#"{"store":{"name":["other"]}}"#, NESTED, false),
        (
            r#"{"store":{"location":{"city":["Seattle"]}}}"#,
            NESTED,
            true,
        ),
        (
            r#"{"store":{"location":{"zip":[{"numeric":[">=",98000,"<",99000]}]}}}"#,
            NESTED,
            true,
        ),
        (
            r#"{"store":{"location":{"state":[{"exists":false}]}}}"#,
            NESTED,
            true,
        ),
        (
            r#"{"store":{"location":{"city":[{"exists":false}]}}}"#,
            NESTED,
            false,
        ),
        (r#"{"nowhere":{"deeper":[{"exists":false}]}}"#, NESTED, true),
        (r#"{"nowhere":{"deeper":[{"exists":true}]}}"#, NESTED, false),
        // Only leaves count: an object or an empty array is not a present value.
        (r#"{"store":[{"exists":true}]}"#, NESTED, false),
        (r#"{"store":[{"exists":false}]}"#, NESTED, true),
        (r#"{"list":[{"exists":false}]}"#, r#"{"list":[]}"#, true),
        (r#"{"list":[{"exists":true}]}"#, r#"{"list":[1]}"#, true),
        // Arrays fan out, including arrays of objects and arrays of arrays.
        (r#"{"orders":{"item":["pen"]}}"#, NESTED, true),
        (r#"{"orders":{"qty":[{"numeric":[">",5]}]}}"#, NESTED, true),
        (r#"{"orders":{"item":["pencil"]}}"#, NESTED, false),
        (r#"{"tags":["c"]}"#, NESTED, true),
        (
            r#"{"orders":{"item":[{"anything-but":"book"}]}}"#,
            NESTED,
            true,
        ),
        (
            r#"{"orders":{"item":[{"anything-but":["book","pen"]}]}}"#,
            NESTED,
            false,
        ),
        // null and booleans.
        (r#"{"coupon":[null]}"#, NESTED, true),
        (r#"{"gift":[null]}"#, NESTED, false),
        (r#"{"coupon":[{"exists":true}]}"#, NESTED, true),
        (r#"{"gift":[false]}"#, NESTED, true),
        (r#"{"gift":[true]}"#, NESTED, false),
        // prefix, suffix, equals-ignore-case, anything-but forms.
        (r#"{"event":[{"prefix":"order_"}]}"#, EXAMPLE_BODY, true),
        (r#"{"event":[{"suffix":"_placed"}]}"#, EXAMPLE_BODY, true),
        (
            r#"{"event":[{"suffix":"_cancelled"}]}"#,
            EXAMPLE_BODY,
            false,
        ),
        (
            r#"{"event":[{"equals-ignore-case":"ORDER_PLACED"}]}"#,
            EXAMPLE_BODY,
            true,
        ),
        (
            r#"{"event":[{"anything-but":{"prefix":"order"}}]}"#,
            EXAMPLE_BODY,
            false,
        ),
        (
            r#"{"event":[{"anything-but":{"suffix":"_x"}}]}"#,
            EXAMPLE_BODY,
            true,
        ),
        (
            r#"{"event":[{"anything-but":{"equals-ignore-case":"Order_Placed"}}]}"#,
            EXAMPLE_BODY,
            false,
        ),
        (
            r#"{"price_usd":[{"anything-but":[100,200]}]}"#,
            EXAMPLE_BODY,
            true,
        ),
        // cidr
        (
            r#"{"client":{"ip":[{"cidr":"192.168.0.0/16"}]}}"#,
            NESTED,
            true,
        ),
        (
            r#"{"client":{"ip":[{"cidr":"192.168.5.0/24"}]}}"#,
            NESTED,
            false,
        ),
        (
            r#"{"ip":[{"cidr":"fe80::/10"}]}"#,
            r#"{"ip":"fe80::1ff:fe23:4567:890a"}"#,
            true,
        ),
        // $or at the top and nested levels.
        (
            r#"{"$or":[{"store":["nope"]},{"event":["order_placed"]}]}"#,
            EXAMPLE_BODY,
            true,
        ),
        (
            r#"{"store":{"$or":[{"name":["nope"]},{"location":{"city":["Seattle"]}}]}}"#,
            NESTED,
            true,
        ),
        (
            r#"{"store":{"$or":[{"name":["nope"]},{"location":{"city":["Portland"]}}]}}"#,
            NESTED,
            false,
        ),
    ];
    let mut failures = Vec::new();
    for (policy_json, body, expected) in cases {
        let policy = FilterPolicy::parse(policy_json, FilterPolicyScope::MessageBody)?;
        if policy.matches_body(body) != *expected {
            failures.push(format!("{policy_json} on {body}: expected {expected}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    Ok(())
}

#[test]
fn invalid_policies_get_aws_messages() {
    let long_value = "x".repeat(256 * 1024);
    let too_long = format!(r#"{{"a":["{long_value}"]}}"#);
    let too_many_values = format!(
        r#"{{"store":[{}]}}"#,
        (0..151)
            .map(|index| format!("\"{index}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let values = |count: usize| {
        (0..count)
            .map(|index| format!("\"{index}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    let or_too_complex = format!(
        r#"{{"$or":[{{"a":[{}]}},{{"b":[{}]}}]}}"#,
        values(76),
        values(75)
    );
    let attributes = FilterPolicyScope::MessageAttributes;
    let body = FilterPolicyScope::MessageBody;
    // (policy, scope, message)
    let cases: Vec<(&str, FilterPolicyScope, &str)> = vec![
        (
            r#"{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys",
        ),
        (
            &too_many_values,
            attributes,
            "Invalid parameter: FilterPolicy: Filter policy is too complex",
        ),
        (
            // 6 values at depth 3, 5 at depth 2: 6 × 3 × 5 × 2 = 180 > 150.
            r#"{"a":{"b":{"c":["1","2","3","4","5","6"]}},"d":{"e":["1","2","3","4","5"]}}"#,
            body,
            "Invalid parameter: FilterPolicy: Filter policy is too complex",
        ),
        (
            // `$or` branches add up: 76 + 75 = 151.
            &or_too_complex,
            attributes,
            "Invalid parameter: FilterPolicy: Filter policy is too complex",
        ),
        (
            r#"{"a":[]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Empty arrays are not allowed",
        ),
        (
            r#"{"a":[{"prefix":"x","suffix":"y"}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Only one key allowed in match expression",
        ),
        (
            r#"{"a":{"b":["x"]}}"#,
            attributes,
            "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy",
        ),
        (
            r#"{"a":"x"}"#,
            attributes,
            r#"Invalid parameter: FilterPolicy: "a" must be an object or an array"#,
        ),
        (
            r#"{"a":[["x"]]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Match value must be String, number, true, false, or null",
        ),
        (
            r#"{"a":[{"regex":"x"}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Unrecognized match type regex",
        ),
        (
            r#"{"a":[{"prefix":5}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: prefix match pattern must be a string",
        ),
        (
            r#"{"a":[{"exists":"yes"}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: exists match pattern must be either true or false.",
        ),
        (
            r#"{"a":[{"anything-but":{"wildcard":"x*"}}]}"#,
            body,
            "Invalid parameter: FilterPolicy: Unsupported anything-but pattern: wildcard",
        ),
        (
            r#"{"a":[{"numeric":[]}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Invalid member in numeric match: ]",
        ),
        (
            r#"{"a":[{"numeric":["!=",1]}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Unrecognized numeric range operator: !=",
        ),
        (
            r#"{"a":[{"numeric":["=","one"]}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Value of equals must be numeric",
        ),
        (
            r#"{"a":[{"numeric":["<",1,">",0]}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Too many elements in numeric expression",
        ),
        (
            r#"{"a":[{"numeric":[">",0,">",10]}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Bad numeric range operator: >",
        ),
        (
            r#"{"a":[{"numeric":[">",10,"<",5]}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Bottom must be less than top",
        ),
        (
            r#"{"a":[{"numeric":[">",0,"<",5,"<",6]}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Too many terms in numeric range expression",
        ),
        (
            r#"{"a":[{"numeric":[">",1000000001]}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Numeric values must be between -1000000000 and 1000000000",
        ),
        (
            r#"{"a":[-1000000000.5]}"#,
            body,
            "Invalid parameter: FilterPolicy: Numeric values must be between -1000000000 and 1000000000",
        ),
        (
            r#"{"a":[{"cidr":"10.0.0.0"}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Malformed CIDR, one '/' required",
        ),
        (
            r#"{"a":[{"cidr":"10.0.0.0/x"}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Malformed CIDR, mask bits must be an integer",
        ),
        (
            r#"{"a":[{"cidr":"10.0.0.300/8"}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: Nonstandard IP address: 10.0.0.300",
        ),
        (
            r#"{"a":[{"cidr":5}]}"#,
            attributes,
            "Invalid parameter: FilterPolicy: prefix match pattern must be a string",
        ),
        (
            r#"{"a":["x"]"#,
            attributes,
            "Invalid parameter: FilterPolicy: failed to parse JSON.",
        ),
        (
            &too_long,
            body,
            "Invalid parameter: FilterPolicy: Filter policy is too long",
        ),
    ];
    let mut failures = Vec::new();
    for (policy_json, scope, message) in &cases {
        match FilterPolicy::parse(policy_json, *scope) {
            Ok(_) => failures.push(format!("{policy_json}: accepted, expected {message}")),
            Err(error) if error.message() != *message => failures.push(format!(
                "{policy_json}: got {:?}, expected {message:?}",
                error.message()
            )),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn subscribe_messages_carry_the_attributes_prefix() {
    let error = FilterPolicy::parse(r#"{"a":[]}"#, FilterPolicyScope::MessageBody).err();
    assert_eq!(
        error.map(|error| error.subscribe_message()),
        Some(
            "Invalid parameter: Attributes Reason: FilterPolicy: Empty arrays are not allowed"
                .to_string()
        )
    );
}

#[test]
fn nested_policy_at_the_complexity_limit_is_accepted() -> Result<(), FilterPolicyError> {
    // AWS's worked example: 4 values three levels deep and 3 two levels deep: 3×4×2×3 = 72.
    let policy =
        r#"{"key_a":{"key_b":{"key_c":["1","2","3","4"]}},"key_d":{"key_e":["1","2","3"]}}"#;
    FilterPolicy::parse(policy, FilterPolicyScope::MessageBody)?;
    // `$or` branches add up: 75 + 75 = 150 is allowed.
    let values = (0..75)
        .map(|index| format!("\"{index}\""))
        .collect::<Vec<_>>()
        .join(",");
    let policy = format!(r#"{{"$or":[{{"a":[{values}]}},{{"b":[{values}]}}]}}"#);
    FilterPolicy::parse(&policy, FilterPolicyScope::MessageAttributes)?;
    Ok(())
}
