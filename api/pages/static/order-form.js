// Starts the order form (a file, not an inline script: the Content-Security-Policy forbids those).
FourOrders.orderForm();
