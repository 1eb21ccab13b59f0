"""``crcgw numbers search|list|provision|assign|unassign|port``: phone numbers and porting."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from api_client.models import (
    BillingAddress,
    NumberBlockCreate,
    PortingOrderCreate,
    PortingOrderUpdate,
)
from gateway.cli.commands._api_common import (
    ConfigOption,
    JsonOption,
    emit,
    parse_date,
    show_rows,
    validated,
    zoom_client,
)
from gateway.cli.output import console, fail

__all__ = ["register"]

NUMBER_COLUMNS = ("id", "phone_number", "type", "status", "capabilities", "assignee")
BLOCK_COLUMNS = ("id", "country", "area_code", "type", "size", "phone_numbers")
ORDER_COLUMNS = ("order_id", "status", "phone_numbers", "submitted_at", "estimated_completion")


def _register_port(numbers: typer.Typer) -> None:
    port = typer.Typer(help="Port numbers in from another carrier.", no_args_is_help=True)
    numbers.add_typer(port, name="port")

    @port.command("create")
    def create(
        phone_numbers: Annotated[list[str], typer.Argument(help="E.164 numbers to port in.")],
        carrier: str = typer.Option(..., help="The losing carrier's name."),
        account_number_env: str = typer.Option(
            ..., help="Environment variable holding the account number at the losing carrier."
        ),
        pin_env: str | None = typer.Option(
            None, help="Environment variable holding the account PIN."
        ),
        authorized_person: str = typer.Option(..., help="Who authorises the port."),
        address: str = typer.Option(..., help="Billing street address."),
        city: str = typer.Option(..., help="Billing city."),
        state: str = typer.Option(..., help="Billing state."),
        zip_code: str = typer.Option(..., "--zip", help="Billing postal code."),
        date: str | None = typer.Option(None, help="Requested port date (YYYY-MM-DD)."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Create a port-in order (POST /phone/porting/orders)."""
        secrets = {}
        for name, env in (("account_number", account_number_env), ("account_pin", pin_env)):
            if env is None:
                continue
            if env not in os.environ:
                fail(f"environment variable {env} is not set")
            secrets[name] = os.environ[env]
        body = validated(PortingOrderCreate, {
            "phone_numbers": phone_numbers, "carrier_name": carrier,
            "authorized_person": authorized_person,
            "billing_address": validated(BillingAddress, {"address": address, "city": city,
                                                          "state": state, "zip": zip_code}),
            "requested_port_date": parse_date(date, "--date"), **secrets,
        })
        with zoom_client(config) as zoom:
            order = zoom.porting.create(body)
        emit(order, as_json,
             lambda _: console.print(f"porting order {order.order_id}: {order.status}"))

    @port.command("list")
    def list_orders(as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """List porting orders."""
        with zoom_client(config) as zoom:
            orders = zoom.porting.list().to_list()
        emit(orders, as_json, show_rows("Porting orders", ORDER_COLUMNS, orders))

    @port.command("show")
    def show(order_id: str = typer.Argument(..., help="The order id."),
             as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Show one porting order."""
        with zoom_client(config) as zoom:
            order = zoom.porting.get(order_id)
        emit(order, as_json, show_rows("Porting order", ORDER_COLUMNS, [order]))

    @port.command("update")
    def update(order_id: str = typer.Argument(..., help="The order id."),
               date: str | None = typer.Option(None, help="New requested port date."),
               authorized_person: str | None = typer.Option(None, help="Who authorises the port."),
               as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Change a porting order."""
        body = validated(PortingOrderUpdate, {"requested_port_date": parse_date(date, "--date"),
                                              "authorized_person": authorized_person})
        with zoom_client(config) as zoom:
            zoom.porting.update(order_id, body)
        emit({"order_id": order_id, "updated": True}, as_json,
             lambda _: console.print(f"updated porting order {order_id}"))

    @port.command("cancel")
    def cancel(order_id: str = typer.Argument(..., help="The order id."),
               as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Cancel a porting order."""
        with zoom_client(config) as zoom:
            zoom.porting.cancel(order_id)
        emit({"order_id": order_id, "cancelled": True}, as_json,
             lambda _: console.print(f"cancelled porting order {order_id}"))

    @port.command("validate")
    def check(phone_numbers: Annotated[list[str], typer.Argument(help="E.164 numbers.")],
              as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Check whether numbers can be ported in."""
        with zoom_client(config) as zoom:
            result = zoom.porting.validate(phone_numbers)
        emit(result.results, as_json,
             show_rows("Portability", ("phone_number", "portable", "reason"), result.results))


def _register_blocks(numbers: typer.Typer) -> None:
    blocks = typer.Typer(help="Blocks of consecutive numbers.", no_args_is_help=True)
    numbers.add_typer(blocks, name="blocks")

    @blocks.command("list")
    def list_blocks(as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """List number blocks."""
        with zoom_client(config) as zoom:
            items = zoom.number_blocks.list().to_list()
        emit(items, as_json, show_rows("Number blocks", BLOCK_COLUMNS, items))

    @blocks.command("create")
    def create_block(
        size: int = typer.Option(..., help="How many consecutive numbers (1..1000)."),
        country: str = typer.Option("US", help="ISO country code."),
        area_code: str | None = typer.Option(None, help="Area code."),
        number_type: str = typer.Option(
            "local", "--type", help="local, toll_free, national or mobile."
        ),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Reserve a block of consecutive numbers."""
        body = validated(NumberBlockCreate, {"size": size, "country": country,
                                             "area_code": area_code, "type": number_type})
        with zoom_client(config) as zoom:
            block = zoom.number_blocks.create(body)
        emit(block, as_json, show_rows("Number block", BLOCK_COLUMNS, [block]))

    @blocks.command("release")
    def release_block(block_id: str = typer.Argument(..., help="The block id."),
                      as_json: bool = JsonOption, config: Path | None = ConfigOption) -> None:
        """Release a number block and its numbers."""
        with zoom_client(config) as zoom:
            zoom.number_blocks.delete(block_id)
        emit({"id": block_id, "released": True}, as_json,
             lambda _: console.print(f"released number block {block_id}"))


def register(app: typer.Typer) -> None:
    numbers = typer.Typer(help="Phone numbers: search, provision, assign, port, blocks.",
                          no_args_is_help=True)
    app.add_typer(numbers, name="numbers")
    _register_port(numbers)
    _register_blocks(numbers)

    @numbers.command("search")
    def search(
        area_code: str | None = typer.Option(None, help="Area code."),
        state: str | None = typer.Option(None, help="State or region."),
        country: str = typer.Option("US", help="ISO country code."),
        quantity: int = typer.Option(10, help="How many (1..100)."),
        toll_free: bool = typer.Option(False, "--toll-free", help="Toll-free numbers."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Search numbers available to provision."""
        with zoom_client(config) as zoom:
            found = zoom.numbers.search(country=country, state=state, area_code=area_code,
                                        quantity=quantity, toll_free=toll_free)
        emit(list(found), as_json, show_rows(
            "Available numbers", ("phone_number", "type", "city", "state", "capabilities",
                                  "monthly_cost"), list(found)))

    @numbers.command("list")
    def list_numbers(
        unassigned: bool = typer.Option(False, "--unassigned", help="Only unassigned numbers."),
        toll_free: bool = typer.Option(False, "--toll-free", help="Only toll-free numbers."),
        managed: bool = typer.Option(
            False, "--managed", help="Zoom's Number Management view (/number_management/numbers)."
        ),
        inventory: bool = typer.Option(False, "--inventory", help="Only the totals."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """List the account's numbers (every page)."""
        if sum((unassigned, toll_free, managed, inventory)) > 1:
            fail("choose one of --unassigned, --toll-free, --managed, --inventory")
        with zoom_client(config) as zoom:
            if inventory:
                totals = zoom.numbers.inventory()
                emit(totals, as_json, show_rows("Inventory", ("total", "assigned", "unassigned",
                                                              "by_type"), [totals]))
                return
            items: list[Any]
            if managed:
                items = zoom.numbers.managed().to_list()
                columns: tuple[str, ...] = ("number_id", "number", "number_type", "number_status",
                                            "allocated_product")
            else:
                pager = (zoom.numbers.unassigned() if unassigned else
                         zoom.numbers.toll_free() if toll_free else zoom.numbers.list())
                items = pager.to_list()
                columns = NUMBER_COLUMNS
        emit(items, as_json, show_rows("Numbers", columns, items))

    @numbers.command("provision")
    def provision(
        phone_numbers: Annotated[list[str], typer.Argument(help="E.164 numbers from a search.")],
        site_id: str | None = typer.Option(None, help="Site to place them in."),
        toll_free: bool = typer.Option(False, "--toll-free", help="Toll-free numbers."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Provision numbers for the account."""
        with zoom_client(config) as zoom:
            result = zoom.numbers.provision(phone_numbers, site_id=site_id, toll_free=toll_free)
        emit(result.provisioned_numbers, as_json, show_rows(
            "Provisioned", ("id", "phone_number", "status"), result.provisioned_numbers))

    @numbers.command("assign")
    def assign(
        number_id: str = typer.Argument(..., help="The number id."),
        assignee_type: str = typer.Option("user", "--to-type", help=(
            "user, call_queue, auto_receptionist, common_area or zoom_room.")),
        assignee_id: str = typer.Option(..., "--to", help="The assignee's id."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Assign a number to a user, queue, room…"""
        with zoom_client(config) as zoom:
            number = zoom.numbers.assign(number_id, assignee_type, assignee_id)
        emit(number, as_json, lambda _: console.print(
            f"assigned {number.phone_number} to {assignee_type} {assignee_id}"))

    @numbers.command("unassign")
    def unassign(
        number_id: str = typer.Argument(..., help="The number id."),
        as_json: bool = JsonOption,
        config: Path | None = ConfigOption,
    ) -> None:
        """Unassign a number."""
        with zoom_client(config) as zoom:
            zoom.numbers.unassign(number_id)
        emit({"id": number_id, "unassigned": True}, as_json,
             lambda _: console.print(f"unassigned {number_id}"))
