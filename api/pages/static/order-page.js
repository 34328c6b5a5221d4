// Starts the order page (a file, not an inline script: the Content-Security-Policy forbids those).
FourOrders.orderPage();
