//! The GraphiQL page served on `GET /graphql` to browsers in the dev profile.

/// GraphiQL from a CDN; the page asks for a bearer token (`make token`) and sends it.
pub const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Atrium GraphiQL</title>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css" />
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultHeaders: '{\n  "Authorization": "Bearer <paste the output of: make token TENANT=ridgeline ROLE=csm>"\n}',
        defaultQuery: '{ tenant { name branding { productName } } customerAccounts(first: 3) { nodes { name health { score band } } } }',
      }),
    );
  </script>
</body>
</html>
"#;
