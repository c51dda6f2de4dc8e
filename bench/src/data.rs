//! Deterministic benchmark data. Sizes are chosen so the benchmark query's response is
//! about 87 KB: every user wrote [`REVIEWS_PER_USER`] reviews, spread round-robin over
//! the products, each with a [`REVIEW_BODY`]-sized body.

/// Number of users in accounts.
pub const USERS: usize = 6;
/// Number of products; `topProducts` defaults to the first five.
pub const PRODUCTS: usize = 5;
/// Reviews written by each user.
pub const REVIEWS_PER_USER: usize = 2;

/// Every review's body: a fixed paragraph, so response size does not depend on ids.
pub const REVIEW_BODY: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris \
nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum \
dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia \
deserunt mollit anim id est laborum. Sed ut perspiciatis unde omnis iste natus error sit voluptatem.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub name: String,
    pub username: String,
    pub birthday: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRecord {
    pub upc: String,
    pub name: String,
    pub price: i32,
    pub weight: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRecord {
    pub id: String,
    pub body: &'static str,
    pub author_id: String,
    pub product_upc: String,
}

pub fn users() -> Vec<UserRecord> {
    (1..=USERS)
        .map(|n| UserRecord {
            id: n.to_string(),
            name: format!("User Number {n}"),
            username: format!("user{n}"),
            birthday: 1_000_000 + i32::try_from(n).unwrap_or(0),
        })
        .collect()
}

pub fn user(id: &str) -> Option<UserRecord> {
    users().into_iter().find(|user| user.id == id)
}

pub fn products() -> Vec<ProductRecord> {
    (1..=PRODUCTS)
        .map(|n| {
            let n = i32::try_from(n).unwrap_or(0);
            ProductRecord { upc: n.to_string(), name: format!("Product {n}"), price: 100 * n + 99, weight: 50 * n }
        })
        .collect()
}

pub fn product(upc: &str) -> Option<ProductRecord> {
    products().into_iter().find(|product| product.upc == upc)
}

pub fn reviews() -> Vec<ReviewRecord> {
    (0..USERS * REVIEWS_PER_USER)
        .map(|index| ReviewRecord {
            id: (index + 1).to_string(),
            body: REVIEW_BODY,
            author_id: (index % USERS + 1).to_string(),
            product_upc: (index % PRODUCTS + 1).to_string(),
        })
        .collect()
}
