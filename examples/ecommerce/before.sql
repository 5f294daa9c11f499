-- The e-commerce app before its evolution, as Prisma's migrate would have created it.
CREATE TYPE "OrderStatus" AS ENUM ('PENDING', 'PAID', 'LEGACY_SHIPPED', 'SHIPPED');
CREATE TABLE "Customer" ("id" TEXT NOT NULL, "customer_email" TEXT NOT NULL, "name" TEXT, CONSTRAINT "Customer_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "Customer_customer_email_key" ON "Customer"("customer_email");
CREATE TABLE "Product" ("id" TEXT NOT NULL, "sku" TEXT NOT NULL, "title" TEXT NOT NULL, CONSTRAINT "Product_pkey" PRIMARY KEY ("id"));
CREATE INDEX "Product_sku_idx" ON "Product"("sku");
CREATE TABLE "Order" ("id" TEXT NOT NULL, "customerId" TEXT NOT NULL, "status" "OrderStatus" NOT NULL DEFAULT 'PENDING', "shipping" JSONB, CONSTRAINT "Order_pkey" PRIMARY KEY ("id"));
CREATE INDEX "Order_customerId_idx" ON "Order"("customerId");
CREATE TABLE "OrderItem" ("id" TEXT NOT NULL, "orderId" TEXT NOT NULL, "productId" TEXT NOT NULL, "quantity" INTEGER NOT NULL, CONSTRAINT "OrderItem_pkey" PRIMARY KEY ("id"));
CREATE INDEX "OrderItem_orderId_idx" ON "OrderItem"("orderId");
ALTER TABLE "Order" ADD CONSTRAINT "Order_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "Customer"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "OrderItem" ADD CONSTRAINT "OrderItem_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "Order"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "OrderItem" ADD CONSTRAINT "OrderItem_productId_fkey" FOREIGN KEY ("productId") REFERENCES "Product"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
