import { redirect } from "next/navigation";

export default function Home() {
  redirect("/data-and-monitoring/general-events");
}
