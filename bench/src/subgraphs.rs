//! The four async-graphql subgraph schemas over [`crate::data`].

use std::sync::LazyLock;

use async_graphql::{ComplexObject, EmptyMutation, EmptySubscription, ID, Object, Schema, SimpleObject};

use crate::data::{self, ProductRecord, ReviewRecord, UserRecord};

static USERS: LazyLock<Vec<UserRecord>> = LazyLock::new(data::users);
static PRODUCTS: LazyLock<Vec<ProductRecord>> = LazyLock::new(data::products);
static REVIEWS: LazyLock<Vec<ReviewRecord>> = LazyLock::new(data::reviews);

pub type AccountsSchema = Schema<accounts::Query, EmptyMutation, EmptySubscription>;
pub type InventorySchema = Schema<inventory::Query, EmptyMutation, EmptySubscription>;
pub type ProductsSchema = Schema<products::Query, EmptyMutation, EmptySubscription>;
pub type ReviewsSchema = Schema<reviews::Query, EmptyMutation, EmptySubscription>;

pub fn accounts() -> AccountsSchema {
    Schema::build(accounts::Query, EmptyMutation, EmptySubscription).enable_federation().finish()
}

pub fn inventory() -> InventorySchema {
    Schema::build(inventory::Query, EmptyMutation, EmptySubscription).enable_federation().finish()
}

pub fn products() -> ProductsSchema {
    Schema::build(products::Query, EmptyMutation, EmptySubscription).enable_federation().finish()
}

pub fn reviews() -> ReviewsSchema {
    Schema::build(reviews::Query, EmptyMutation, EmptySubscription).enable_federation().finish()
}

/// `User @key(fields: "id") { id name username birthday }` and the root user fields.
pub mod accounts {
    use super::*;

    #[derive(SimpleObject)]
    pub struct User {
        id: ID,
        name: Option<String>,
        /// Also provided by reviews on `Review.author`.
        #[graphql(shareable)]
        username: Option<String>,
        birthday: Option<i32>,
    }

    impl From<&UserRecord> for User {
        fn from(record: &UserRecord) -> Self {
            User {
                id: record.id.as_str().into(),
                name: Some(record.name.clone()),
                username: Some(record.username.clone()),
                birthday: Some(record.birthday),
            }
        }
    }

    fn find(id: &str) -> Option<User> {
        USERS.iter().find(|user| user.id == id).map(User::from)
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn me(&self) -> Option<User> {
            USERS.first().map(User::from)
        }

        async fn user(&self, id: ID) -> Option<User> {
            find(&id)
        }

        async fn users(&self) -> Option<Vec<Option<User>>> {
            Some(USERS.iter().map(|user| Some(User::from(user))).collect())
        }

        #[graphql(entity)]
        async fn user_by_id(&self, id: ID) -> Option<User> {
            find(&id)
        }
    }
}

/// `Product @key(fields: "upc") { upc name price weight }` and `topProducts`.
pub mod products {
    use super::*;

    #[derive(SimpleObject)]
    pub struct Product {
        upc: String,
        name: Option<String>,
        price: Option<i32>,
        weight: Option<i32>,
    }

    impl From<&ProductRecord> for Product {
        fn from(record: &ProductRecord) -> Self {
            Product {
                upc: record.upc.clone(),
                name: Some(record.name.clone()),
                price: Some(record.price),
                weight: Some(record.weight),
            }
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn top_products(&self, #[graphql(default = 5)] first: i32) -> Option<Vec<Option<Product>>> {
            let first = usize::try_from(first).unwrap_or(0);
            Some(PRODUCTS.iter().take(first).map(|product| Some(Product::from(product))).collect())
        }

        #[graphql(entity)]
        async fn product_by_upc(&self, upc: String) -> Option<Product> {
            PRODUCTS.iter().find(|product| product.upc == upc).map(Product::from)
        }
    }
}

/// `Product { inStock shippingEstimate @requires(fields: "price weight") }`.
pub mod inventory {
    use super::*;

    #[derive(SimpleObject)]
    #[graphql(complex)]
    pub struct Product {
        upc: String,
        #[graphql(external)]
        price: Option<i32>,
        #[graphql(external)]
        weight: Option<i32>,
        in_stock: Option<bool>,
    }

    #[ComplexObject]
    impl Product {
        /// Free for expensive items, otherwise half the weight.
        #[graphql(requires = "price weight")]
        async fn shipping_estimate(&self) -> Option<i32> {
            let (price, weight) = (self.price?, self.weight?);
            Some(if price > 1000 { 0 } else { weight / 2 })
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn product_by_upc(
            &self,
            #[graphql(key)] upc: String,
            price: Option<i32>,
            weight: Option<i32>,
        ) -> Product {
            let in_stock = Some(!upc.ends_with('3'));
            Product { upc, price, weight, in_stock }
        }
    }
}

/// `Review`, plus `User.reviews` and `Product.reviews`; authors come with `username`
/// (`@provides`).
pub mod reviews {
    use super::*;

    pub struct Review(&'static ReviewRecord);

    #[Object]
    impl Review {
        async fn id(&self) -> ID {
            self.0.id.as_str().into()
        }

        async fn body(&self) -> Option<&str> {
            Some(self.0.body)
        }

        #[graphql(provides = "username")]
        async fn author(&self) -> Option<User> {
            user(&self.0.author_id)
        }

        async fn product(&self) -> Option<Product> {
            Some(Product { upc: self.0.product_upc.clone() })
        }
    }

    #[derive(SimpleObject)]
    #[graphql(complex)]
    pub struct User {
        id: ID,
        #[graphql(external)]
        username: Option<String>,
    }

    fn user(id: &str) -> Option<User> {
        USERS
            .iter()
            .find(|user| user.id == id)
            .map(|user| User { id: user.id.as_str().into(), username: Some(user.username.clone()) })
    }

    #[ComplexObject]
    impl User {
        async fn reviews(&self) -> Option<Vec<Option<Review>>> {
            Some(REVIEWS.iter().filter(|review| review.author_id == self.id.0).map(|r| Some(Review(r))).collect())
        }
    }

    #[derive(SimpleObject)]
    #[graphql(complex)]
    pub struct Product {
        upc: String,
    }

    #[ComplexObject]
    impl Product {
        async fn reviews(&self) -> Option<Vec<Option<Review>>> {
            Some(REVIEWS.iter().filter(|review| review.product_upc == self.upc).map(|r| Some(Review(r))).collect())
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn user_by_id(&self, id: ID) -> Option<User> {
            user(&id)
        }

        #[graphql(entity)]
        async fn product_by_upc(&self, upc: String) -> Product {
            Product { upc }
        }

        #[graphql(entity)]
        async fn review_by_id(&self, id: ID) -> Option<Review> {
            REVIEWS.iter().find(|review| review.id == id.0).map(Review)
        }
    }
}
