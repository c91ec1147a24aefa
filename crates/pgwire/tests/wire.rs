//! End-to-end tests of the wire adapter against a fake engine
//! (`common::FakeServer`), driven by tokio-postgres, a raw protocol client
//! and, when installed, psql.

mod common;

use common::{cstr, sqlstate, tags, RawConn, TestServer, DEADLINE};
use futures::{SinkExt, StreamExt};
use tokio_postgres::SimpleQueryMessage;

fn simple_rows(messages: &[SimpleQueryMessage]) -> Vec<Vec<Option<String>>> {
    messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_owned))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

fn command_counts(messages: &[SimpleQueryMessage]) -> Vec<u64> {
    messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect()
}

// ---- simple query ------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_query_returns_rows_and_tags() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let messages = client
        .simple_query("select * from t; create table x")
        .await
        .expect("query succeeds");
    assert_eq!(
        simple_rows(&messages),
        vec![
            vec![Some("1".into()), Some("one".into())],
            vec![Some("2".into()), Some("two".into())],
            vec![Some("3".into()), None],
        ]
    );
    assert_eq!(command_counts(&messages), vec![3, 0]);
    match &messages[0] {
        SimpleQueryMessage::RowDescription(columns) => {
            let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
            assert_eq!(names, vec!["id", "name"]);
        }
        other => panic!("expected a RowDescription first, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn format_special_takes_precedence_in_text_only() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let messages = client
        .simple_query("special")
        .await
        .expect("query succeeds");
    assert_eq!(simple_rows(&messages), vec![vec![Some("SPECIAL".into())]]);
    // Binary results (tokio-postgres's choice) use the type's binary form.
    let rows = client.query("special", &[]).await.expect("query succeeds");
    assert_eq!(rows[0].get::<_, &str>(0), "special");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_query_error_carries_sqlstate_and_fields() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let error = client
        .simple_query("select fail")
        .await
        .expect_err("fail is a syntax error");
    let db = error.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "42601");
    assert_eq!(db.severity(), "ERROR");
    assert_eq!(db.message(), "syntax error at or near \"fail\"");
    assert_eq!(db.hint(), Some("Do not write fail."));
    assert!(matches!(
        db.position(),
        Some(tokio_postgres::error::ErrorPosition::Original(8))
    ));
    // The connection is still usable.
    let messages = client
        .simple_query("select 1")
        .await
        .expect("query after an error");
    assert_eq!(simple_rows(&messages).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_query_error_skips_the_rest() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let error = client
        .simple_query("create a; boom; create b")
        .await
        .expect_err("boom fails");
    assert_eq!(sqlstate(&error), "22012");
    let executed = server.journal.lock().unwrap().executed.clone();
    assert_eq!(executed, vec!["create a", "boom"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_query_gets_empty_query_response() {
    let server = TestServer::start(None).await;
    let (mut conn, _) = RawConn::startup(server.addr).await;
    conn.query("  ").await;
    assert_eq!(tags(&conn.until_ready().await), "IZ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_megabyte_query_works() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let sql = format!("big {}", "x".repeat(5 * 1024 * 1024));
    let messages = client
        .simple_query(&sql)
        .await
        .expect("a 5 MB query succeeds");
    assert_eq!(command_counts(&messages), vec![sql.len() as u64]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greeting_reports_parameters_and_changes() {
    let server = TestServer::start(None).await;
    let mut conn = RawConn::open(server.addr).await;
    conn.send_startup(
        196_608,
        &[
            ("user", "root"),
            ("database", "dev"),
            ("application_name", "raw"),
        ],
    )
    .await;
    let greeting = conn.until_ready().await;
    assert_eq!(
        greeting[0].tag, b'R',
        "AuthenticationOk first: {greeting:?}"
    );
    let statuses: Vec<String> = greeting
        .iter()
        .filter(|m| m.tag == b'S')
        .map(|m| String::from_utf8_lossy(&m.body).replace('\0', "="))
        .collect();
    assert!(
        statuses.contains(&"server_version=13.0.0=".to_owned()),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&"application_name=raw=".to_owned()),
        "{statuses:?}"
    );
    assert!(
        greeting.iter().any(|m| m.tag == b'K'),
        "BackendKeyData: {greeting:?}"
    );
    assert_eq!(greeting.last().unwrap().body, b"I");

    conn.query("set application_name = 'x'").await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "CSZ");
    assert_eq!(reply[1].body, b"application_name\0changed\0");

    let connects = server.journal.lock().unwrap().connects.clone();
    assert_eq!(connects[0].user, "root");
    assert_eq!(connects[0].database, "dev");
    assert!(connects[0]
        .options
        .contains(&("application_name".into(), "raw".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_defaults_to_user_and_unknown_database_is_3d000() {
    let server = TestServer::start(None).await;
    let mut config = server.config();
    config.dbname("nope");
    let error = common::connect_with(config)
        .await
        .expect_err("database nope does not exist");
    assert_eq!(sqlstate(&error), "3D000");
    assert_eq!(
        error.as_db_error().unwrap().message(),
        "database \"nope\" does not exist"
    );

    let mut conn = RawConn::open(server.addr).await;
    conn.send_startup(196_608, &[("user", "dev")]).await;
    let reply = conn.until_ready().await;
    assert_eq!(reply.last().unwrap().tag, b'Z');
    let connects = server.journal.lock().unwrap().connects.clone();
    assert!(
        connects
            .iter()
            .any(|c| c.user == "dev" && c.database == "dev"),
        "{connects:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_user_is_rejected() {
    let server = TestServer::start(None).await;
    let mut conn = RawConn::open(server.addr).await;
    conn.send_startup(196_608, &[("database", "dev")]).await;
    let reply = conn.until_closed().await;
    assert_eq!(tags(&reply), "E");
    assert_eq!(reply[0].sqlstate(), "28000");
    assert_eq!(reply[0].fields()[&b'S'], "FATAL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_and_gss_requests_are_refused_and_startup_continues() {
    let server = TestServer::start(None).await;
    let mut conn = RawConn::open(server.addr).await;
    conn.write(&[0, 0, 0, 8, 4, 210, 22, 47]).await; // SSLRequest
    assert_eq!(conn.recv_byte().await, b'N');
    conn.write(&[0, 0, 0, 8, 4, 210, 22, 48]).await; // GSSENCRequest
    assert_eq!(conn.recv_byte().await, b'N');
    conn.send_startup(196_608, &[("user", "root"), ("database", "dev")])
        .await;
    assert_eq!(conn.until_ready().await.last().unwrap().tag, b'Z');
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_minor_protocol_is_negotiated_down() {
    let server = TestServer::start(None).await;
    let mut conn = RawConn::open(server.addr).await;
    conn.send_startup(
        196_610,
        &[("user", "root"), ("database", "dev"), ("_pq_.fancy", "1")],
    )
    .await;
    let reply = conn.until_ready().await;
    assert_eq!(reply[0].tag, b'v', "{reply:?}");
    let mut expected = 196_608i32.to_be_bytes().to_vec();
    expected.extend(1i32.to_be_bytes());
    expected.extend(cstr("_pq_.fancy"));
    assert_eq!(reply[0].body, expected);

    let mut conn = RawConn::open(server.addr).await;
    conn.send_startup(2 << 16, &[("user", "root")]).await;
    let reply = conn.until_closed().await;
    assert_eq!(reply[0].sqlstate(), "0A000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_disconnects_the_session() {
    let mut server = TestServer::start(None).await;
    let (mut conn, greeting) = RawConn::startup(server.addr).await;
    let key = greeting
        .iter()
        .find(|m| m.tag == b'K')
        .expect("BackendKeyData");
    let process_id = i32::from_be_bytes(key.body[0..4].try_into().unwrap());
    conn.send(b'X', &[]).await;
    assert!(conn.until_closed().await.is_empty());
    assert_eq!(server.next_disconnect().await, process_id);

    // A client that just drops the socket is disconnected too.
    let client = server.connect().await;
    drop(client);
    server.next_disconnect().await;
}

// ---- extended query ------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_describes_params_and_columns() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let statement = client
        .prepare("select id, name from t")
        .await
        .expect("prepare");
    let columns: Vec<(String, String)> = statement
        .columns()
        .iter()
        .map(|c| (c.name().to_owned(), c.type_().name().to_owned()))
        .collect();
    assert_eq!(
        columns,
        vec![("id".into(), "int4".into()), ("name".into(), "text".into())]
    );
    assert_eq!(statement.columns()[0].table_oid(), Some(16384));
    assert_eq!(statement.columns()[1].column_id(), Some(2));

    let statement = client
        .prepare("echo $1::int4, $2")
        .await
        .expect("prepare with params");
    let params: Vec<&str> = statement.params().iter().map(|t| t.name()).collect();
    assert_eq!(params, vec!["int4", "int4"]);
    let statement = client
        .prepare_typed("echo $1", &[tokio_postgres::types::Type::TEXT])
        .await
        .expect("prepare with a typed param");
    assert_eq!(statement.params(), &[tokio_postgres::types::Type::TEXT]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_null_params_and_results() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let rows = client
        .query("echo $1::int4, $2", &[&None::<i32>, &None::<i32>])
        .await
        .expect("echo nulls");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, Option<i32>>(0), None);
    assert_eq!(rows[0].get::<_, Option<i32>>(1), None);
    let rows = client.query("nulls 4", &[]).await.expect("null rows");
    assert_eq!(rows.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_binary_params_and_results() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let statement = client
        .prepare_typed(
            "echo $1, $2",
            &[
                tokio_postgres::types::Type::INT4,
                tokio_postgres::types::Type::TEXT,
            ],
        )
        .await
        .expect("prepare");
    let rows = client
        .query(&statement, &[&42i32, &"hi"])
        .await
        .expect("echo");
    assert_eq!(rows[0].get::<_, i32>(0), 42);
    assert_eq!(rows[0].get::<_, &str>(1), "hi");
    let rows = client.query("select * from t", &[]).await.expect("select");
    let values: Vec<(i32, Option<String>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        values,
        vec![(1, Some("one".into())), (2, Some("two".into())), (3, None)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_text_params() {
    let server = TestServer::start(None).await;
    let (mut conn, _) = RawConn::startup(server.addr).await;
    conn.parse("", "echo $1::int4", &[]).await;
    conn.bind("", "", &[], &[Some(b"7")], &[]).await;
    conn.execute("", 0).await;
    conn.sync().await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "12DCZ");
    assert_eq!(reply[2].data_row(), vec![Some(b"7".to_vec())]);

    conn.parse("", "echo $1::int4", &[]).await;
    conn.bind("", "", &[], &[Some(b"seven")], &[]).await;
    conn.sync().await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "1EZ");
    assert_eq!(reply[1].sqlstate(), "22P02");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_errors_skip_to_sync() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let error = client
        .prepare("select fail")
        .await
        .expect_err("prepare fails");
    assert_eq!(sqlstate(&error), "42601");
    let error = client.query("boom", &[]).await.expect_err("execute fails");
    assert_eq!(sqlstate(&error), "22012");
    assert_eq!(
        client
            .query("nulls 1", &[])
            .await
            .expect("usable after errors")
            .len(),
        1
    );

    // Raw: after the failing Parse, Bind/Execute are discarded until Sync.
    let (mut conn, _) = RawConn::startup(server.addr).await;
    conn.parse("", "fail", &[]).await;
    conn.bind("", "", &[], &[], &[]).await;
    conn.execute("", 0).await;
    conn.query("select").await; // discarded too
    conn.sync().await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "EZ");
    conn.query("create x").await;
    assert_eq!(tags(&conn.until_ready().await), "CZ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_protocol_messages_in_detail() {
    let server = TestServer::start(None).await;
    let (mut conn, _) = RawConn::startup(server.addr).await;

    // Named statement, Describe statement and portal (text results).
    conn.parse("s1", "select id, name from t", &[]).await;
    conn.describe(b'S', "s1").await;
    conn.bind("p1", "s1", &[], &[], &[0]).await;
    conn.describe(b'P', "p1").await;
    conn.execute("p1", 0).await;
    conn.sync().await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "1tT2TDDDCZ");
    assert_eq!(reply[1].body, vec![0, 0], "no parameters");
    assert_eq!(
        reply[5].data_row(),
        vec![Some(b"1".to_vec()), Some(b"one".to_vec())]
    );
    assert_eq!(reply[7].data_row(), vec![Some(b"3".to_vec()), None]);
    assert_eq!(reply[8].command_tag(), "SELECT 3");

    // A duplicate statement name is 42P05; an unknown one 26000.
    conn.parse("s1", "select", &[]).await;
    conn.sync().await;
    let reply = conn.until_ready().await;
    assert_eq!(reply[0].sqlstate(), "42P05");
    conn.bind("", "nope", &[], &[], &[]).await;
    conn.sync().await;
    assert_eq!(conn.until_ready().await[0].sqlstate(), "26000");

    // Wrong parameter count and bad format codes.
    conn.parse("", "echo $1", &[]).await;
    conn.bind("", "", &[], &[], &[]).await;
    conn.sync().await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "1EZ");
    assert_eq!(reply[1].sqlstate(), "08P01");
    conn.parse("", "select", &[]).await;
    conn.bind("", "", &[], &[], &[0, 1, 0]).await;
    conn.sync().await;
    assert_eq!(conn.until_ready().await[1].sqlstate(), "08P01");
    conn.bind("", "s1", &[], &[], &[7]).await;
    conn.sync().await;
    assert_eq!(conn.until_ready().await[0].sqlstate(), "22023");

    // Statement without rows: NoData; Close is acknowledged even for unknown names.
    conn.parse("s2", "create x", &[]).await;
    conn.describe(b'S', "s2").await;
    conn.bind("", "s2", &[], &[], &[]).await;
    conn.describe(b'P', "").await;
    conn.execute("", 0).await;
    conn.close(b'S', "s2").await;
    conn.close(b'P', "never").await;
    conn.sync().await;
    assert_eq!(tags(&conn.until_ready().await), "1tn2nC33Z");

    // Unknown portal.
    conn.execute("never", 0).await;
    conn.sync().await;
    assert_eq!(conn.until_ready().await[0].sqlstate(), "34000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_with_row_limit_suspends_the_portal() {
    let server = TestServer::start(None).await;
    let (mut conn, _) = RawConn::startup(server.addr).await;
    conn.parse("", "series 5", &[]).await;
    conn.bind("", "", &[], &[], &[]).await;
    conn.execute("", 2).await;
    conn.execute("", 2).await;
    conn.execute("", 2).await;
    conn.sync().await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "12DDsDDsDCZ");
    let values: Vec<Vec<u8>> = reply
        .iter()
        .filter(|m| m.tag == b'D')
        .map(|m| m.data_row()[0].clone().unwrap())
        .collect();
    assert_eq!(
        values,
        vec![
            b"1".to_vec(),
            b"2".to_vec(),
            b"3".to_vec(),
            b"4".to_vec(),
            b"5".to_vec()
        ]
    );
    assert_eq!(reply[9].command_tag(), "SELECT 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_row_limits_with_tokio_postgres() {
    let server = TestServer::start(None).await;
    let mut client = server.connect().await;
    let transaction = client.transaction().await.expect("begin");
    let portal = transaction.bind("nulls 5", &[]).await.expect("bind");
    let mut sizes = Vec::new();
    loop {
        let rows = transaction.query_portal(&portal, 2).await.expect("fetch");
        if rows.is_empty() {
            break;
        }
        sizes.push(rows.len());
    }
    assert_eq!(sizes, vec![2, 2, 1]);
    transaction.commit().await.expect("commit");
}

// ---- COPY ----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_in_with_tokio_postgres() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let sink = client
        .copy_in("copy t from stdin")
        .await
        .expect("copy starts");
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"1\tone\n"))
        .await
        .expect("send");
    sink.send(bytes::Bytes::from_static(b"2\ttwo\n"))
        .await
        .expect("send");
    assert_eq!(sink.finish().await.expect("copy completes"), 2);
    assert_eq!(
        server.journal.lock().unwrap().copied,
        vec![b"1\tone\n2\ttwo\n".to_vec()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_out_with_tokio_postgres() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let stream = client
        .copy_out("copy t to stdout")
        .await
        .expect("copy starts");
    let chunks: Vec<bytes::Bytes> = stream.map(|c| c.expect("chunk")).collect().await;
    assert_eq!(
        chunks,
        vec![
            bytes::Bytes::from_static(b"1\tone\n"),
            bytes::Bytes::from_static(b"2\ttwo\n")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_in_simple_protocol_details() {
    let server = TestServer::start(None).await;
    let (mut conn, _) = RawConn::startup(server.addr).await;

    // COPY in the middle of a multi-statement query: the rest runs after CopyDone.
    conn.query("create a; copy t from stdin; create b").await;
    let reply = conn.recv().await.unwrap();
    assert_eq!(reply.tag, b'C');
    let response = conn.recv().await.unwrap();
    assert_eq!(response.tag, b'G');
    assert_eq!(response.body, vec![0, 0, 2, 0, 0, 0, 0]);
    conn.send(b'd', b"1\tone\n").await;
    conn.send(b'H', &[]).await; // ignored during COPY
    conn.send(b'd', b"2\ttwo\n3\tthree\n").await;
    conn.send(b'c', &[]).await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "CCZ");
    assert_eq!(reply[0].command_tag(), "COPY 3");
    assert_eq!(
        server.journal.lock().unwrap().executed,
        vec!["create a", "copy t from stdin", "create b"]
    );

    // CopyFail aborts with the engine's error.
    conn.query("copy t from stdin").await;
    assert_eq!(conn.recv().await.unwrap().tag, b'G');
    conn.send(b'd', b"1\tone\n").await;
    conn.send(b'f', &cstr("client gave up")).await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "EZ");
    assert_eq!(reply[0].sqlstate(), "57014");
    assert_eq!(
        server.journal.lock().unwrap().copy_failures,
        vec!["client gave up"]
    );

    // An engine error at CopyDone.
    conn.query("copy t from stdin").await;
    assert_eq!(conn.recv().await.unwrap().tag, b'G');
    conn.send(b'd', b"bad\n").await;
    conn.send(b'c', &[]).await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "EZ");
    assert_eq!(reply[0].sqlstate(), "22P02");

    // A non-COPY message during COPY is an error; later copy messages are ignored.
    conn.query("copy t from stdin").await;
    assert_eq!(conn.recv().await.unwrap().tag, b'G');
    conn.query("select").await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "EZ");
    assert_eq!(reply[0].sqlstate(), "08P01");
    conn.send(b'd', b"late\n").await;
    conn.send(b'c', &[]).await;
    conn.query("create c").await;
    assert_eq!(tags(&conn.until_ready().await), "CZ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_in_extended_protocol() {
    let server = TestServer::start(None).await;
    let (mut conn, _) = RawConn::startup(server.addr).await;
    conn.parse("", "copy t from stdin", &[]).await;
    conn.bind("", "", &[], &[], &[]).await;
    conn.execute("", 0).await;
    conn.sync().await; // libpq-style Sync before the data: ignored during COPY
    let mut reply = Vec::new();
    for _ in 0..3 {
        reply.push(conn.recv().await.unwrap());
    }
    assert_eq!(tags(&reply), "12G");
    conn.send(b'd', b"1\tone\n").await;
    conn.send(b'c', &[]).await;
    conn.sync().await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "CZ");
    assert_eq!(reply[0].command_tag(), "COPY 1");
}

// ---- authentication and cancellation --------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_authentication() {
    let server = TestServer::start(Some("s3cret")).await;
    let mut config = server.config();
    config.password("s3cret");
    let client = common::connect_with(config).await.expect("right password");
    assert_eq!(
        simple_rows(&client.simple_query("select").await.unwrap()).len(),
        3
    );

    let mut config = server.config();
    config.password("wrong");
    let error = common::connect_with(config)
        .await
        .expect_err("wrong password");
    assert_eq!(sqlstate(&error), "28P01");
    assert_eq!(
        error.as_db_error().unwrap().message(),
        "password authentication failed for user \"root\""
    );

    let error = common::connect_with(server.config())
        .await
        .expect_err("no password");
    assert!(
        format!("{error:?}").contains("password missing"),
        "{error:?}"
    );

    // Only SCRAM-SHA-256 is offered: no channel binding without TLS.
    let mut conn = RawConn::open(server.addr).await;
    conn.send_startup(196_608, &[("user", "root")]).await;
    let request = conn.recv().await.unwrap();
    assert_eq!(request.tag, b'R');
    let mut expected = 10i32.to_be_bytes().to_vec();
    expected.extend(cstr("SCRAM-SHA-256"));
    expected.push(0);
    assert_eq!(request.body, expected);
    // Asking for -PLUS is a protocol violation.
    let mut body = cstr("SCRAM-SHA-256-PLUS");
    let first = b"p=tls-server-end-point,,n=,r=abc";
    body.extend((first.len() as i32).to_be_bytes());
    body.extend(first);
    conn.send(b'p', &body).await;
    let reply = conn.until_closed().await;
    assert_eq!(reply[0].sqlstate(), "08P01");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_request_stops_a_running_statement() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let token = client.cancel_token();
    let running = tokio::spawn(async move { client.simple_query("sleep").await });
    // Cancel until the statement reports it; a cancel that arrives before
    // the statement starts is kept by the fake engine's flag.
    token
        .cancel_query(tokio_postgres::NoTls)
        .await
        .expect("cancel request sent");
    let result = tokio::time::timeout(DEADLINE, running)
        .await
        .expect("statement ends")
        .expect("task");
    let error = result.expect_err("the statement is cancelled");
    assert_eq!(sqlstate(&error), "57014");
}

// ---- robustness ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_become_xx000_and_the_session_survives() {
    let server = TestServer::start(None).await;
    let client = server.connect().await;
    let error = client
        .simple_query("create a; panic; create b")
        .await
        .expect_err("the engine panics");
    assert_eq!(sqlstate(&error), "XX000");
    assert_eq!(
        error.as_db_error().unwrap().message(),
        "internal error: fake engine panic"
    );
    assert_eq!(
        command_counts(
            &client
                .simple_query("create c")
                .await
                .expect("session survives")
        ),
        vec![0]
    );

    let error = client
        .query("panic", &[])
        .await
        .expect_err("the engine panics (extended)");
    assert_eq!(sqlstate(&error), "XX000");
    assert_eq!(
        client
            .query("nulls 2", &[])
            .await
            .expect("session survives")
            .len(),
        2
    );
    assert!(!server
        .journal
        .lock()
        .unwrap()
        .executed
        .contains(&"create b".to_owned()));

    // Other clients are unaffected.
    let other = server.connect().await;
    assert_eq!(
        simple_rows(&other.simple_query("select").await.unwrap()).len(),
        3
    );
}

/// Sends `bytes` after a successful startup and expects an 08P01
/// ErrorResponse followed by the server closing the socket.
async fn expect_protocol_violation(server: &TestServer, bytes: &[u8]) {
    let (mut conn, _) = RawConn::startup(server.addr).await;
    conn.write(bytes).await;
    let reply = conn.until_closed().await;
    assert_eq!(tags(&reply), "E", "for {bytes:?}: {reply:?}");
    assert_eq!(reply[0].sqlstate(), "08P01", "for {bytes:?}");
    assert_eq!(reply[0].fields()[&b'S'], "FATAL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_close_only_that_connection() {
    let server = TestServer::start(None).await;
    let bystander = server.connect().await;

    expect_protocol_violation(&server, b"Q\x00\x00\x00\x02").await; // length below 4
    expect_protocol_violation(&server, b"Q\x7f\xff\xff\xffselect").await; // over 1 GiB
    expect_protocol_violation(&server, b"S\x00\x01\x00\x00").await; // 64 KiB Sync
    expect_protocol_violation(&server, b"Q\x00\x00\x00\x08abcd").await; // no terminator
    expect_protocol_violation(&server, b"\x01garbage garbage").await; // unknown type
    expect_protocol_violation(&server, b"B\x00\x00\x00\x0a\0\0\x00\x05\x00\x01").await; // truncated Bind
    expect_protocol_violation(&server, b"p\x00\x00\x00\x09pass\0").await; // password after startup

    // Garbage instead of a startup packet.
    let mut conn = RawConn::open(server.addr).await;
    conn.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let reply = conn.until_closed().await;
    assert!(reply.iter().all(|m| m.tag == b'E'), "{reply:?}");

    // A startup packet claiming a huge length.
    let mut conn = RawConn::open(server.addr).await;
    conn.write(&[0x7f, 0, 0, 0, 0, 3, 0, 0]).await;
    conn.until_closed().await;

    // The server still serves new and existing connections.
    let client = server.connect().await;
    assert_eq!(
        simple_rows(&client.simple_query("select").await.unwrap()).len(),
        3
    );
    assert_eq!(
        simple_rows(&bystander.simple_query("select").await.unwrap()).len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_is_an_ordinary_error() {
    let server = TestServer::start(None).await;
    let (mut conn, _) = RawConn::startup(server.addr).await;
    conn.send(b'Q', b"select '\xff\xfe'\0").await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "EZ");
    assert_eq!(reply[0].sqlstate(), "22021");
    assert_eq!(
        reply[0].fields()[&b'M'],
        "invalid byte sequence for encoding \"UTF8\": 0xff"
    );
    assert_eq!(reply[0].fields()[&b'S'], "ERROR");

    // In the extended protocol the error skips to Sync.
    conn.send(b'P', b"\0select \xff\0\0\0").await;
    conn.bind("", "", &[], &[], &[]).await;
    conn.sync().await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "EZ");
    assert_eq!(reply[0].sqlstate(), "22021");

    // A text parameter that is not UTF-8.
    conn.parse("", "echo $1", &[]).await;
    conn.bind("", "", &[], &[Some(b"\xc3")], &[]).await;
    conn.sync().await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "1EZ");
    assert_eq!(reply[1].sqlstate(), "22021");

    conn.query("select").await;
    assert_eq!(tags(&conn.until_ready().await), "TDDDCZ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_call_is_not_supported() {
    let server = TestServer::start(None).await;
    let (mut conn, _) = RawConn::startup(server.addr).await;
    conn.send(b'F', &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await;
    let reply = conn.until_ready().await;
    assert_eq!(tags(&reply), "EZ");
    assert_eq!(reply[0].sqlstate(), "0A000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_concurrent_connections() {
    let server = TestServer::start(None).await;
    let mut clients = Vec::new();
    for _ in 0..200 {
        clients.push(server.connect().await);
    }
    let queries = clients
        .iter()
        .map(|client| async move { client.simple_query("select").await });
    let results = futures::future::join_all(queries).await;
    for result in results {
        assert_eq!(simple_rows(&result.expect("query succeeds")).len(), 3);
    }
    // A slow statement on one connection does not block the others.
    let sleeper = server.connect().await;
    let token = sleeper.cancel_token();
    let running = tokio::spawn(async move { sleeper.simple_query("sleep").await });
    for client in clients.iter().take(20) {
        client
            .simple_query("create x")
            .await
            .expect("not blocked by the sleeper");
    }
    token
        .cancel_query(tokio_postgres::NoTls)
        .await
        .expect("cancel");
    let _ = tokio::time::timeout(DEADLINE, running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_can_query() {
    let psql = std::path::Path::new("/usr/bin/psql");
    if !psql.exists() {
        eprintln!("skipped: /usr/bin/psql is not installed");
        return;
    }
    let server = TestServer::start(None).await;
    let port = server.addr.port().to_string();
    let output = tokio::time::timeout(
        DEADLINE,
        tokio::process::Command::new(psql)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "root",
                "-d",
                "dev",
                "-X",
                "-A",
                "-t",
                "-c",
                "select 1",
            ])
            .env("PGCONNECT_TIMEOUT", "10")
            .output(),
    )
    .await
    .expect("psql finishes")
    .expect("psql runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout, "1|one\n2|two\n3|\n");

    let output = tokio::process::Command::new(psql)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "root",
            "-d",
            "dev",
            "-X",
            "-c",
            "select fail",
        ])
        .output()
        .await
        .expect("psql runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("syntax error at or near \"fail\""));

    // COPY through psql.
    let output = tokio::process::Command::new(psql)
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "root",
            "-d",
            "dev",
            "-X",
            "-c",
            "copy t to stdout",
        ])
        .output()
        .await
        .expect("psql runs");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "1\tone\n2\ttwo\n");
}
