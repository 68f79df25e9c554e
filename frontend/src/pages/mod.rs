//! One module per page of the web app.

pub mod admin;
pub mod audit;
pub mod batch;
pub mod chain;
pub mod credentials;
pub mod dashboard;
pub mod issue;
pub mod kyc;
pub mod offer;
pub mod privacy;
pub mod request;
pub mod sign_in;
pub mod types;
pub mod verify;
